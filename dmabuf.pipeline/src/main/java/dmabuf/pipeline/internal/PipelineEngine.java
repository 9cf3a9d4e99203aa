package dmabuf.pipeline.internal;

import java.time.Duration;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.pipeline.api.Pipeline;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * The {@link Pipeline} without the framework: one run at a time with the settings in force when it starts. A start
 * that cannot set up leaves a FAILED status saying why and throws. A run outlives the loss of a device (see
 * {@link RecoveringRun}).
 */
final class PipelineEngine implements Pipeline {
    private final Stages stages;
    private volatile PipelineSettings settings;
    // Guarded by this.
    private RecoveringRun run;
    private PipelineStatusDTO failedStart;

    PipelineEngine(Stages stages, PipelineSettings settings) {
        this.stages = stages;
        this.settings = settings;
    }

    /** Settings for the next run. */
    void configure(PipelineSettings next) {
        settings = next;
    }

    PipelineSettings settings() {
        return settings;
    }

    /** A camera, scanout device or GPU came or went: a run waiting for one to come back looks again. */
    void devicesChanged() {
        RecoveringRun current;
        synchronized (this) {
            current = run;
        }
        if (current != null) {
            current.devicesChanged();
        }
    }

    @Override
    public synchronized void start(long frames) {
        if (frames < 0) {
            throw new IllegalArgumentException("frames must be 0 (until stopped) or positive, not " + frames);
        }
        if (run != null && run.isRunning()) {
            throw new DmaBufException(Errno.EBUSY, "the pipeline is already running; stop it first");
        }
        PipelineSettings s = settings;
        try {
            run = RecoveringRun.start(stages, s, frames);
            failedStart = null;
        } catch (RuntimeException e) {
            run = null;
            failedStart = idle(s, frames);
            failedStart.state = PipelineStatusDTO.FAILED;
            failedStart.failure = "start: " + e.getMessage();
            throw e;
        }
    }

    @Override
    public PipelineStatusDTO stop() {
        RecoveringRun current;
        synchronized (this) {
            current = run;
        }
        if (current == null) {
            return status();
        }
        try {
            return current.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return current.status();
        }
    }

    @Override
    public synchronized PipelineStatusDTO status() {
        if (run != null) {
            return run.status();
        }
        return failedStart != null ? failedStart : idle(settings, 0);
    }

    @Override
    public PipelineStatusDTO awaitCompletion(Duration timeout) throws InterruptedException {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, not " + timeout);
        }
        RecoveringRun current;
        synchronized (this) {
            current = run;
        }
        return current == null ? status() : current.await(timeout);
    }

    private static PipelineStatusDTO idle(PipelineSettings s, long frames) {
        PipelineStatusDTO dto = new PipelineStatusDTO();
        dto.state = PipelineStatusDTO.IDLE;
        dto.width = s.width();
        dto.height = s.height();
        dto.format = s.format().fourcc();
        dto.framesRequested = frames;
        dto.stages = new PipelineStatusDTO.StageDTO[0];
        dto.lastFrameCrc = -1;
        dto.lastFrameNumber = -1;
        return dto;
    }
}
