package dmabuf.importer.encoder;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The encoder's configuration, PID {@value DeflateEncoder#PID}; optional. */
@ObjectClassDefinition(id = DeflateEncoder.PID, name = "dma-buf encoder importer",
        description = "A memory-to-memory encoder compressing each frame to a zlib stream, reading it in place.")
public @interface EncoderConfig {
    /** @return the device name */
    @AttributeDefinition(name = "device name", description = "The encoder's device name, as it attaches.")
    String device_name() default "enc0";

    /** @return the deflate level */
    @AttributeDefinition(name = "level", min = "0", max = "9",
            description = "The deflate level: 1 is fastest, 9 smallest, 0 stores.")
    int level() default 1;
}
