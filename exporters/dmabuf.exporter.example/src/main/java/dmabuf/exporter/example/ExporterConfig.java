package dmabuf.exporter.example;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The configuration of PID {@value PatternExporter#PID} (factory-less), a component property type with Metatype so
 * consoles and FileInstall can edit it. A change restarts the stream with the new settings.
 */
@ObjectClassDefinition(id = PatternExporter.PID, name = "dma-buf example exporter",
        description = "Produces a stream of RGBA frames with a moving test pattern as dma-bufs and hands each to "
                + "every DmaBufSink service.")
public @interface ExporterConfig {
    /** @return how many frames to produce */
    @AttributeDefinition(name = "frames", min = "0", description = "How many frames to produce, then stop.")
    int frames() default 8;

    /** @return the frame width */
    @AttributeDefinition(name = "width", min = "1", max = "16384", description = "Frame width in pixels.")
    int width() default 640;

    /** @return the frame height */
    @AttributeDefinition(name = "height", min = "1", max = "16384", description = "Frame height in pixels.")
    int height() default 480;

    /** @return the frame interval */
    @AttributeDefinition(name = "interval (ms)", min = "0",
            description = "Time from the start of one frame to the start of the next; 0 produces as fast as the "
                    + "consumers allow.")
    long interval_ms() default 0;

    /** @return the number of frame buffers */
    @AttributeDefinition(name = "pool size", min = "1", max = "64",
            description = "How many frame buffers the exporter allocates up front and recycles.")
    int pool_size() default 3;
}
