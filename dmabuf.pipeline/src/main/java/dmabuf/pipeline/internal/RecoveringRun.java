package dmabuf.pipeline.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dmabuf.api.DmaBufException;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * A run that survives its devices going away: when a leg ({@link PipelineRun}) fails because a device it used went
 * away (ENODEV: its camera, framebuffer device or GPU unbound, or its buffers revoked, as when an exporter bundle is
 * updated), the leg has already given everything back; this waits, bounded by {@code recovery.timeout.ms}, for devices
 * of the same names to come back and starts a new leg with the frames still to do, carrying the frames done, the stage
 * figures and the clock. Meanwhile the status stays RUNNING with {@link PipelineStatusDTO#recovering} saying why. A
 * device that does not come back in time fails the run naming it. Waiting happens on the failed leg's teardown thread.
 */
final class RecoveringRun implements PipelineRun.Listener {
    /** How often a recovery tries again without a device event. */
    private static final long RETRY_MILLIS = 100;
    private final Stages stages;
    private final PipelineSettings settings;
    private final long frames;
    private final Object lock = new Object();
    // Guarded by lock.
    private PipelineRun leg;
    private String recovering;
    private boolean stopped;
    private long deviceEvents;

    private RecoveringRun(Stages stages, PipelineSettings settings, long frames) {
        this.stages = stages;
        this.settings = settings;
        this.frames = frames;
    }

    /** Starts the first leg; throws as {@link PipelineRun#start}. */
    static RecoveringRun start(Stages stages, PipelineSettings settings, long frames) {
        RecoveringRun run = new RecoveringRun(stages, settings, frames);
        PipelineRun first = PipelineRun.start(stages, settings, frames, null, run);
        synchronized (run.lock) {
            if (run.leg == null) { // a leg that failed at once may have recovered already
                run.leg = first;
            }
        }
        return run;
    }

    /** A device came or went: a recovery waiting for one looks again. */
    void devicesChanged() {
        synchronized (lock) {
            deviceEvents++;
            lock.notifyAll();
        }
    }

    @Override
    public PipelineRun.Outcome ended(PipelineRun ended, String state, String failure, boolean deviceGone) {
        long timeout = settings.recoveryTimeoutMillis();
        if (!PipelineStatusDTO.FAILED.equals(state) || !deviceGone || timeout == 0) {
            return new PipelineRun.Outcome(state, failure);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout);
        String lastError = failure;
        long seen;
        synchronized (lock) {
            if (stopped) {
                return new PipelineRun.Outcome(PipelineStatusDTO.STOPPED, null);
            }
            leg = ended; // its status (still RUNNING) stands for the run while it recovers
            recovering = "device gone, waiting up to " + timeout + " ms for it to come back: " + failure;
            seen = deviceEvents;
        }
        RunCarry carry = ended.carry();
        while (true) {
            try {
                PipelineRun next = PipelineRun.start(stages, settings, frames, carry, this);
                synchronized (lock) {
                    if (!stopped) {
                        leg = next;
                        recovering = null;
                        return new PipelineRun.Outcome(state, failure); // nobody sees this leg any more
                    }
                }
                stopQuietly(next); // stopped while the new leg started
                return new PipelineRun.Outcome(PipelineStatusDTO.STOPPED, null);
            } catch (DmaBufException e) {
                lastError = e.getMessage();
            }
            synchronized (lock) {
                // Wait for a device event, but try again at least every RETRY_MILLIS: a device that is back may still
                // refuse (the core may not know its new exporter yet, EINVAL), and that is no event of ours.
                long retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS);
                try {
                    while (!stopped && deviceEvents == seen && System.nanoTime() - retryAt < 0) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            break;
                        }
                        TimeUnit.NANOSECONDS.timedWait(lock, Math.min(left, retryAt - System.nanoTime()));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stopped = true;
                }
                if (stopped) {
                    recovering = null;
                    return new PipelineRun.Outcome(PipelineStatusDTO.STOPPED, null);
                }
                if (deadline - System.nanoTime() <= 0) {
                    recovering = null;
                    return new PipelineRun.Outcome(PipelineStatusDTO.FAILED, "device did not come back within "
                            + timeout + " ms (recovery.timeout.ms): " + lastError + "; it went away with: " + failure);
                }
                seen = deviceEvents;
            }
        }
    }

    private static void stopQuietly(PipelineRun run) {
        try {
            run.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private PipelineRun current() {
        synchronized (lock) {
            return leg;
        }
    }

    /** Stops the current leg, or the wait for a device, bounded; the final status. */
    PipelineStatusDTO stop() throws InterruptedException {
        synchronized (lock) {
            stopped = true;
            lock.notifyAll();
        }
        PipelineRun stopping = current();
        PipelineStatusDTO s = stopping.stop();
        // a recovery that started a new leg just before it saw the stop stops that leg itself
        PipelineRun now = current();
        return now == stopping ? s : now.stop();
    }

    /** Waits for the run's end across its legs, or the timeout. */
    PipelineStatusDTO await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            PipelineRun l = current();
            l.await(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            if (current() == l || deadline - System.nanoTime() <= 0) {
                return status();
            }
        }
    }

    boolean isRunning() {
        return current().isRunning();
    }

    /** The status of the current leg; while recovering, RUNNING with {@code recovering} set. */
    PipelineStatusDTO status() {
        PipelineRun l;
        String why;
        synchronized (lock) {
            l = leg;
            why = recovering;
        }
        PipelineStatusDTO s = l.status();
        if (why != null && PipelineStatusDTO.RUNNING.equals(s.state)) {
            s.recovering = why;
        }
        return s;
    }
}
