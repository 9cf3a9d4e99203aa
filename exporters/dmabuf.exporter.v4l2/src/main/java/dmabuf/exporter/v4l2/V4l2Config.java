package dmabuf.exporter.v4l2;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The configuration of one capture device: a factory configuration of PID {@value V4l2CaptureComponent#PID}, one
 * device per configuration. A component property type with Metatype so consoles and FileInstall can edit it
 * ({@code dmabuf.exporter.v4l2-video0.cfg}).
 * <p>
 * A change is applied without revoking live buffers: the frame rate at once; the default format, the name and the
 * memory size only while the device has no buffers (otherwise the change is logged and the old value kept).
 */
@ObjectClassDefinition(id = V4l2CaptureComponent.PID, name = "dma-buf V4L2 capture device",
        description = "A V4L2-like capture device producing a moving test pattern into buffers from a contiguous "
                + "pool, exported as dma-bufs.")
public @interface V4l2Config {
    /** @return the device's name */
    @AttributeDefinition(name = "name", description = "The device's name, e.g. video0: its exporter name and the "
            + "dmabuf.v4l2.device service property. Unique among exporters.")
    String name() default "video0";

    /** @return the pool size in MiB */
    @AttributeDefinition(name = "memory (MiB)", min = "1", max = "4096",
            description = "The device's contiguous buffer pool (camera buffers are physically contiguous), "
                    + "reserved and pre-faulted when the device starts.")
    int memory_mb() default 64;

    /** @return the default pixel format */
    @AttributeDefinition(name = "format", description = "The pixel format at start (until S_FMT changes it).",
            options = {@Option(label = "RGBA (AB24)", value = "RGBA"), @Option(label = "NV12", value = "NV12")})
    String format() default "RGBA";

    /** @return the default width */
    @AttributeDefinition(name = "width", min = "1", max = "8192", description = "Width in pixels at start "
            + "(even for NV12).")
    int width() default 640;

    /** @return the default height */
    @AttributeDefinition(name = "height", min = "1", max = "8192", description = "Height in pixels at start "
            + "(even for NV12).")
    int height() default 480;

    /** @return the frame rate */
    @AttributeDefinition(name = "frame rate", min = "0", max = "1000", description = "Frames per second while "
            + "streaming; 0 fills each buffer as soon as it is queued.")
    int fps() default 30;
}
