package dmabuf.pipeline.api;

import org.osgi.dto.DTO;

/**
 * A snapshot of a pipeline run. Public fields, no behaviour, never changed after it is returned.
 */
public class PipelineStatusDTO extends DTO {
    /** No run has started yet. */
    public static final String IDLE = "IDLE";
    /** A run is streaming. */
    public static final String RUNNING = "RUNNING";
    /** The run streamed every frame it was asked for. */
    public static final String COMPLETED = "COMPLETED";
    /** The run was stopped before its last frame. */
    public static final String STOPPED = "STOPPED";
    /** A stage failed; {@link #failure} says which and why. */
    public static final String FAILED = "FAILED";

    /** One of IDLE, RUNNING, COMPLETED, STOPPED, FAILED. */
    public String state;
    /** What failed (stage, device, errno and message) when {@link #state} is FAILED; otherwise null. */
    public String failure;
    /**
     * While a RUNNING run waits for a device that went away (e.g. its exporter bundle was updated) to come back: which
     * device and why; otherwise null. The run then goes on with the frames still to do, or fails naming the device.
     */
    public String recovering;
    /** Frame width and height in pixels, and the camera's pixel format (a fourcc such as "NV12"). */
    public int width;
    public int height;
    public String format;
    /** Frames asked for (0 = until stopped) and frames the display has scanned out so far. */
    public long framesRequested;
    public long framesDone;
    /** Frames per second over the run so far. */
    public double framesPerSecond;
    /** Wall time of the run so far, in milliseconds. */
    public long elapsedMillis;
    /** Per-stage figures, in pipeline order (capture, render, scanout, encode). */
    public StageDTO[] stages;
    /** Bytes copied on the frame path during the run: 0 when every hop was zero-copy. */
    public long bytesCopied;
    /** Buffers and bytes the pipeline holds right now (its frame pool and framebuffers). */
    public int liveBuffers;
    public long liveBytes;
    /** CRC-32 of the last frame the display scanned out, and its frame number; -1 before the first. */
    public long lastFrameCrc;
    public long lastFrameNumber;
    /**
     * How much the stages overlap (they are ordered by dma-fences only): the time-weighted mean number of render,
     * scanout and encode jobs running at once, and the wall time in milliseconds two or more of them ran at once.
     */
    public double meanStagesInFlight;
    public long overlappedMillis;

    /** Figures of one stage. */
    public static class StageDTO extends DTO {
        /** Stage name: "capture", "render", "scanout" or "encode". */
        public String name;
        /** The device doing the work (the driver's device name). */
        public String device;
        /** Frames this stage has completed. */
        public long frames;
        /** Latency of this stage per frame, in microseconds: median and 99th percentile. */
        public double latencyP50Micros;
        public double latencyP99Micros;
        /** What the stage produced, if anything, for a person to read (e.g. "1.9 MB deflate, ratio 0.21"). */
        public String output;
    }
}
