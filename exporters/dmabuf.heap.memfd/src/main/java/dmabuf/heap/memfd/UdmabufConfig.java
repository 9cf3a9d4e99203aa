package dmabuf.heap.memfd;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The configuration of PID {@value UdmabufDevice#PID}, as the kernel module's parameters. Applies at once. */
@ObjectClassDefinition(id = UdmabufDevice.PID, name = "udmabuf",
        description = "dma-bufs made from memfd ranges (/dev/udmabuf): the pages are the memfd's, never copied.")
public @interface UdmabufConfig {
    /** @return the largest buffer, in MiB */
    @AttributeDefinition(name = "size limit (MiB)", min = "1", max = "1048576",
            description = "The largest buffer one create may make, in MiB (the kernel's size_limit_mb); beyond it "
                    + "is EINVAL.")
    long size_limit_mb() default 64;

    /** @return the most ranges of one create */
    @AttributeDefinition(name = "list limit", min = "1",
            description = "The most ranges one list create may take (the kernel's list_limit); beyond it is EINVAL.")
    int list_limit() default 1024;
}
