package dmabuf.importer.gpu;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The GPU importer's configuration, PID {@value GpuRenderer#PID}; optional: the defaults describe a 64-bit GPU. */
@ObjectClassDefinition(id = GpuRenderer.PID, name = "dma-buf GPU importer",
        description = "A GPU that imports camera frames as textures and renders them into framebuffers.")
public @interface GpuImporterConfig {
    /** @return the device name */
    @AttributeDefinition(name = "device name", description = "The GPU's device name, as it attaches to buffers.")
    String device_name() default "render0";

    /** @return the DMA address bits */
    @AttributeDefinition(name = "DMA address bits", min = "12", max = "64",
            description = "How many address bits the GPU's DMA reaches: 32 refuses buffers above 4 GiB.")
    int dma_mask_bits() default 64;
}
