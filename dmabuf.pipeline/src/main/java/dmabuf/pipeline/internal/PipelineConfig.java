package dmabuf.pipeline.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The pipeline's configuration, PID {@value PipelineComponent#PID}; optional. Applies to the next run. */
@ObjectClassDefinition(id = PipelineComponent.PID, name = "dma-buf pipeline",
        description = "camera -> GPU -> display (+ encoder), every hop a dma-buf. Changes apply to the next run.")
public @interface PipelineConfig {
    /** @return frame width */
    @AttributeDefinition(name = "width", min = "2", max = "8192", description = "Frame width in pixels.")
    int width() default 640;

    /** @return frame height */
    @AttributeDefinition(name = "height", min = "2", max = "8192", description = "Frame height in pixels.")
    int height() default 480;

    /** @return the camera's pixel format */
    @AttributeDefinition(name = "format", description = "The camera's pixel format: NV12 or RGBA.")
    String format() default "NV12";

    /** @return camera buffers */
    @AttributeDefinition(name = "buffer count", min = "2", max = "32",
            description = "Camera buffers (REQBUFS count).")
    int buffer_count() default 4;

    /** @return framebuffers */
    @AttributeDefinition(name = "framebuffer count", min = "2", max = "8",
            description = "Display framebuffers the GPU renders into (one is on screen at a time).")
    int framebuffer_count() default 3;

    /** @return the camera's name */
    @AttributeDefinition(name = "camera", description = "The capture device's name (a dmabuf.exporter.v4l2 "
            + "factory configuration's name), e.g. video0.")
    String camera() default "video0";

    /** @return the framebuffers' device */
    @AttributeDefinition(name = "framebuffer device", description = "The device allocating the framebuffers the "
            + "GPU renders into and the display scans out: a scanout device's dumb buffers (dmabuf.exporter.scanout, "
            + "e.g. card0) or a GPU's objects (dmabuf.exporter.gpu, e.g. gpu0).")
    String framebuffer_device() default "card0";

    /** @return the colour matrix */
    @AttributeDefinition(name = "colour matrix", description = "The GPU's colour grading: identity, sepia or grey.")
    String colour_matrix() default "sepia";

    /** @return whether the encoder runs */
    @AttributeDefinition(name = "encode", description = "Whether the encoder compresses every displayed frame.")
    boolean encode() default true;

    /** @return the longest wait at stop */
    @AttributeDefinition(name = "stop timeout (ms)", min = "100",
            description = "How long stop waits for frames in flight before it gives everything back anyway.")
    long stop_timeout_ms() default 2000;

    /** @return the longest wait for a device that went away */
    @AttributeDefinition(name = "recovery timeout (ms)", min = "0",
            description = "When a device the run uses goes away (its exporter bundle updated or restarted, its "
                    + "buffers revoked), how long the run waits for a device of the same name to come back before it "
                    + "fails; it then goes on with the frames still to do. 0 disables recovery.")
    long recovery_timeout_ms() default 10000;
}
