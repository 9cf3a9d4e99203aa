package dmabuf.pipeline.api;

import java.time.Duration;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.DmaBufException;

/**
 * The camera -> GPU -> display (+ encoder) pipeline. Thread-safe; runs happen on the pipeline's own threads.
 * <p>
 * A run streams until it has completed the frames it was asked for, until {@link #stop()}, or until a stage fails;
 * {@link #status()} tells which. Stopping is clean: frames in flight finish or are abandoned within a bounded time,
 * and every buffer, attachment, mapping and CPU view the run took is given back before {@code stop} returns.
 */
@ProviderType
public interface Pipeline {

    /**
     * Starts a run in the background.
     *
     * @param frames how many frames to stream, or 0 to stream until {@link #stop()}
     * @throws IllegalArgumentException if {@code frames} is negative
     * @throws DmaBufException {@code EBUSY} if a run is already going; {@code ENODEV} (naming the device) or the
     *     exporter's errno if a stage cannot start, e.g. the display cannot scan out what the GPU renders into
     */
    void start(long frames);

    /**
     * Stops the current run, if any, and waits a bounded time for its frames in flight; idempotent.
     *
     * @return the final status of the run (state {@link PipelineStatusDTO#STOPPED} unless it had already ended)
     */
    PipelineStatusDTO stop();

    /** @return a snapshot of the current or last run */
    PipelineStatusDTO status();

    /**
     * Waits until the current run ends (its frames done, stopped, or failed), or the timeout passes.
     *
     * @param timeout how long to wait at most; must not be negative
     * @return the status at that moment: its {@link PipelineStatusDTO#state} says whether the run ended
     * @throws InterruptedException if the calling thread is interrupted while waiting
     */
    PipelineStatusDTO awaitCompletion(Duration timeout) throws InterruptedException;
}
