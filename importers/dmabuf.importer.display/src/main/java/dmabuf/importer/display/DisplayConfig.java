package dmabuf.importer.display;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The display's configuration, PID {@value CrtcDisplay#PID}; optional: the defaults describe crtc0 on DMA32. */
@ObjectClassDefinition(id = CrtcDisplay.PID, name = "dma-buf display importer",
        description = "A display controller that scans out contiguous XRGB8888 framebuffers within its DMA mask.")
public @interface DisplayConfig {
    /** @return the crtc's name */
    @AttributeDefinition(name = "name", description = "The display controller's device name, e.g. crtc0.")
    String name() default "crtc0";

    /** @return the DMA address bits */
    @AttributeDefinition(name = "DMA address bits", min = "12", max = "64",
            description = "How many address bits the scanout engine reaches: 32 is a DMA32 engine.")
    int dma_mask_bits() default 32;

    /** @return the longest wait for another call */
    @AttributeDefinition(name = "lock timeout (ms)", min = "1",
            description = "How long a call waits for another one holding the display before ETIMEDOUT.")
    long lock_timeout_ms() default 2000;
}
