package dmabuf.exporter.scanout;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The configuration of one scanout device: a factory configuration of PID {@value ScanoutComponent#PID}, one per
 * device, with Metatype so consoles and FileInstall (e.g. {@code dmabuf.exporter.scanout-card0.cfg}) can edit it.
 */
@ObjectClassDefinition(id = ScanoutComponent.PID, name = "dma-buf scanout device",
        description = "A KMS-like display scanout device: dumb buffers in a contiguous pool below a 32-bit DMA mask, "
                + "exported as dma-bufs. One configuration per device.")
public @interface ScanoutConfig {
    /** @return the device's name */
    @AttributeDefinition(name = "name",
            description = "The device's name, e.g. card0: the name of its DumbBufferDevice and DmaBufExporter "
                    + "services and of its pool. Fixed while the device runs: to rename it, delete the configuration "
                    + "and create another.")
    String name() default "card0";

    /** @return the pool size in MB */
    @AttributeDefinition(name = "memory (MB)", min = "1", max = "4096",
            description = "The size of the device's contiguous pool, in MB, placed below 4 GiB. A change applies "
                    + "only while the device has no buffer: the pool cannot be resized under live buffers.")
    int memory_mb() default 64;

    /** @return the largest width */
    @AttributeDefinition(name = "max width", min = "1",
            description = "The widest dumb buffer the device scans out, in pixels; wider is EINVAL. A change applies "
                    + "to new buffers.")
    int max_width() default 8192;

    /** @return the largest height */
    @AttributeDefinition(name = "max height", min = "1",
            description = "The tallest dumb buffer the device scans out, in rows; taller is EINVAL. A change applies "
                    + "to new buffers.")
    int max_height() default 8192;
}
