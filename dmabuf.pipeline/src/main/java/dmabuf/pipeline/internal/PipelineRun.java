package dmabuf.pipeline.internal;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.api.sync.FenceContext;
import dmabuf.exporter.v4l2.api.Frame;
import dmabuf.importer.display.api.ScanoutResult;
import dmabuf.importer.encoder.api.EncodedFrame;
import dmabuf.importer.gpu.api.RenderResult;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * One run: capture, render, scanout and encode each run on their own executor and are ordered by dma-fences only
 * (see {@link Handoff}); pixels stay in the exporters' buffers.
 * <p>
 * DOC: how a frame travels. The capture thread dequeues a frame and publishes the camera's WRITE fence on its buffer
 * (signalled at once: the device has written it). It then publishes, in frame order, the render job (READ on the
 * camera buffer, WRITE on framebuffer {@code n % count}), the scanout job and the encode job (READ on that
 * framebuffer); each starts on its stage's executor when the fences it depends on have signalled, so render of frame
 * n+1 runs while frame n is scanned out and encoded. The camera gets a buffer back once every READ fence on it
 * signalled; the GPU reuses a framebuffer once the display (whose READ fence signals when the frame leaves the
 * screen) and the encoder are done with it. A failing job sets EIO on its fence before signalling and fails the run.
 * The run ends when the last stage has done the frames asked for, on {@link #stop}, or on a failure; the teardown
 * waits (bounded) for every fence on the run's buffers, stops the executors and gives the buffers back.
 * <p>
 * A run that lost a device is one leg of a {@link RecoveringRun}: its {@link Listener} decides, after the teardown,
 * what the leg's end means, and the next leg starts from its {@link #carry()}.
 */
final class PipelineRun {
    private final PipelineSettings settings;
    private final long framesRequested;
    private final RunBuffers buffers;
    private final Stages stages;
    private final Handoff handoff;
    private final Overlap overlap;
    private final Listener listener;
    private final Stage capture;
    private final Stage render;
    private final Stage scanout;
    private final Stage encode;
    private volatile boolean cancelled;
    private final AtomicBoolean ending = new AtomicBoolean();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final long startNanos;
    /** Frames the display had shown when this leg started (0 for a fresh run): the capture counts on from there. */
    private final long firstFrame;
    /** A failure's cause was a device that went away (ENODEV): the run may recover. */
    private volatile boolean deviceGone;
    /** The scanout fence of the frame on screen: signalled when the next frame replaces it. Scanout thread only. */
    private DmaFence onScreen;
    // Guarded by this.
    private String state = PipelineStatusDTO.RUNNING;
    private String failure;
    private long endNanos;
    private long framesDone;
    private long lastCrc = -1;
    private long lastFrameNumber = -1;
    private long bytesCopied;
    private long encodedBytes;
    private long rawBytes;
    private long encodedFrames;

    /** A stage: its timeline, its executor (one thread, owned by the run) and its figures. */
    private record Stage(String name, FenceContext timeline, ExecutorService executor, StageStats stats) {
    }

    /** Told on the teardown thread, after everything was given back and before the state is published. */
    interface Listener {
        /**
         * @param leg        the run that ends
         * @param state      its end state
         * @param failure    why it failed, or null
         * @param deviceGone whether a device it used went away (ENODEV, or its service unbound or replaced)
         * @return the state and failure to publish
         */
        Outcome ended(PipelineRun leg, String state, String failure, boolean deviceGone);
    }

    /**
     * How a run ended.
     *
     * @param state   its end state
     * @param failure why it failed, or null
     */
    record Outcome(String state, String failure) {
    }

    private PipelineRun(Stages stages, PipelineSettings settings, long frames, RunBuffers buffers,
            RunCarry carry, Listener listener) {
        this.stages = stages;
        this.settings = settings;
        this.framesRequested = frames;
        this.buffers = buffers;
        this.listener = listener;
        this.handoff = new Handoff(stages.registry());
        this.startNanos = carry == null ? System.nanoTime() : carry.startNanos();
        this.overlap = carry == null ? new Overlap() : carry.overlap();
        Map<String, StageStats> stats = carry == null ? Map.of() : carry.stats();
        this.capture = stage("capture", buffers.camera.name(), stats);
        this.render = stage("render", stages.gpu().device().name(), stats);
        this.scanout = stage("scanout", stages.display().device().name(), stats);
        this.encode = settings.encode() ? stage("encode", stages.encoder().device().name(), stats) : null;
        if (carry != null) {
            firstFrame = carry.framesDone();
            framesDone = carry.framesDone();
            encodedFrames = carry.framesDone(); // a frame shown but not encoded before the loss stays unencoded
            lastCrc = carry.lastCrc();
            lastFrameNumber = carry.lastFrameNumber();
            bytesCopied = carry.bytesCopied();
            encodedBytes = carry.encodedBytes();
            rawBytes = carry.rawBytes();
        } else {
            firstFrame = 0;
        }
    }

    /** What the next leg carries on with; call once this leg's stages stopped. */
    synchronized RunCarry carry() {
        Map<String, StageStats> stats = new HashMap<>();
        for (Stage s : allStages()) {
            stats.put(s.name(), s.stats());
        }
        return new RunCarry(startNanos, overlap, stats, framesDone, lastCrc, lastFrameNumber, bytesCopied,
                encodedBytes, rawBytes);
    }

    private Stage stage(String name, String device, Map<String, StageStats> carried) {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dmabuf-pipeline-" + name);
            t.setDaemon(true);
            return t;
        });
        return new Stage(name, stages.registry().fenceContext("dmabuf.pipeline", name + "@" + device), executor,
                carried.getOrDefault(name, new StageStats(name, device)));
    }

    private List<Stage> allStages() {
        return encode == null ? List.of(capture, render, scanout) : List.of(capture, render, scanout, encode);
    }

    /**
     * Allocates the run's buffers and starts capturing.
     *
     * @throws DmaBufException as {@link RunBuffers#allocate}
     */
    static PipelineRun start(Stages stages, PipelineSettings settings, long frames, RunCarry carry,
            Listener listener) {
        RunBuffers buffers = RunBuffers.allocate(stages, settings);
        PipelineRun run;
        try {
            run = new PipelineRun(stages, settings, frames, buffers, carry, listener);
        } catch (RuntimeException e) {
            buffers.release();
            throw e;
        }
        run.capture.executor().execute(run::captureLoop);
        return run;
    }

    /** The work of one job; returns what the stage shows as its output. */
    private interface Work {
        String run();
    }

    /**
     * Publishes a job of {@code stage} and chains it on its dependencies. Returns its fence. The job signals its
     * fence when done unless {@code keepFence} (the scanout signals when the frame leaves the screen).
     */
    private DmaFence submit(Stage stage, List<DmaBuf> inputs, List<DmaBuf> outputs, boolean keepFence, Work work) {
        return submit(stage, stage.timeline().createFence(), inputs, outputs, keepFence, work);
    }

    /** As above with a fence the caller made, for a job that must know its own fence before it can run. */
    private DmaFence submit(Stage stage, DmaFence fence, List<DmaBuf> inputs, List<DmaBuf> outputs,
            boolean keepFence, Work work) {
        handoff.publish(fence, inputs, outputs)
                .thenRunAsync(() -> execute(stage, fence, keepFence, work), stage.executor())
                .exceptionally(e -> {
                    fail(fence, stage, e); // the executor was shut down under a cancelled run
                    return null;
                });
        return fence;
    }

    private void execute(Stage stage, DmaFence fence, boolean keepFence, Work work) {
        if (cancelled) {
            signalQuietly(fence, Errno.EINTR);
            return;
        }
        long t0 = System.nanoTime();
        overlap.enter();
        String output;
        try (DmaFence.SignallingSection section = fence.beginSignalling()) {
            output = work.run();
        } catch (RuntimeException | Error e) { // a device that dies of an Error fails the run too
            fail(fence, stage, e);
            return;
        } finally {
            overlap.exit();
        }
        stage.stats().record(t0, output);
        if (!keepFence) {
            signalQuietly(fence, null);
        }
    }

    private void fail(DmaFence fence, Stage stage, Throwable e) {
        signalQuietly(fence, Errno.EIO);
        failed(stage.name() + ": " + e, e);
    }

    /**
     * Ends the run as FAILED unless it was cancelled already; notes whether a device went away: ENODEV, or a camera
     * that stopped streaming under the run (only the teardown stops it, after cancelling; a camera being taken down
     * stops streaming before it withdraws its service, so its calls fail with EINVAL first).
     */
    private void failed(String why, Throwable e) {
        if (!cancelled) {
            if (isDeviceGone(e) || !buffers.camera.isStreaming()) {
                deviceGone = true;
            }
            end(PipelineStatusDTO.FAILED, why);
        }
    }

    /** ENODEV anywhere in the cause chain: the device or its buffers were revoked under the run. */
    private static boolean isDeviceGone(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof DmaBufException d && d.errno() == Errno.ENODEV) {
                return true;
            }
        }
        return false;
    }

    /** Signals unless signalled already (the core signals a stopped bundle's fences with ENODEV). */
    private static void signalQuietly(DmaFence fence, Errno error) {
        try {
            if (error != null) {
                fence.setError(error);
            }
            fence.signal();
        } catch (DmaBufException alreadySignalled) {
            if (alreadySignalled.errno() != Errno.EALREADY) {
                throw alreadySignalled;
            }
        }
    }

    private boolean more(long done) {
        return !cancelled && (framesRequested == 0 || done < framesRequested);
    }

    /** The capture executor's loop: dequeue, publish the frame, publish its jobs downstream. */
    private void captureLoop() {
        long done = firstFrame;
        try {
            while (more(done)) {
                long t0 = System.nanoTime();
                Frame f;
                try {
                    f = buffers.camera.dequeue(50, TimeUnit.MILLISECONDS);
                } catch (DmaBufException e) {
                    if (e.errno() == Errno.EAGAIN || cancelled) {
                        continue;
                    }
                    throw e;
                }
                if (f.error()) {
                    buffers.camera.queue(f.index()); // the device could not write it: nothing to show
                    continue;
                }
                DmaBuf cam = buffers.cameraBuffers[f.index()];
                DmaFence captured = capture.timeline().createFence();
                handoff.publish(captured, List.of(), List.of(cam));
                captured.signal(); // the device wrote the frame before dequeue returned it
                capture.stats().record(t0, buffers.format.toString());
                submitFrame(f.index(), f.sequence(), done);
                done++;
            }
        } catch (RuntimeException | Error e) {
            // after cancel the camera refuses calls (STREAMOFF): expected, not a failure
            failed("capture: " + e, e);
        }
    }

    private void submitFrame(int cameraIndex, long sequence, long frameIndex) {
        DmaBuf cam = buffers.cameraBuffers[cameraIndex];
        int fb = (int) (frameIndex % buffers.framebuffers.length);
        DmaBuf target = buffers.framebuffers[fb];
        submit(render, List.of(cam), List.of(target), false, () -> {
            RenderResult r = stages.gpu().render(cam, buffers.texture, target, buffers.target, settings.matrix());
            synchronized (this) {
                bytesCopied += r.bytesCopied();
            }
            return settings.matrix().name() + ", " + buffers.texture.format() + " -> XRGB8888 (" + r.sourceAccess()
                    + "/" + r.targetAccess() + ")";
        });
        // the camera reuses its buffer only when every reader of it (the render job) is done
        cam.resv().whenSignaled(DmaResvUsage.READ).thenRun(() -> requeue(cameraIndex));
        // The fence exists before the job is published: the job may run at once on the scanout thread, and it must
        // leave its own fence as the one on screen (else the framebuffer's READ fence never signals).
        DmaFence shown = scanout.timeline().createFence();
        submit(scanout, shown, List.of(target), List.of(), true, () -> {
            ScanoutResult r = stages.display().pageFlip(target, buffers.framebuffer);
            DmaFence previous = onScreen;
            onScreen = shown;
            if (previous != null) {
                signalQuietly(previous, null); // that frame left the screen: its framebuffer may be reused
            }
            synchronized (this) {
                framesDone++;
                lastCrc = r.crc();
                lastFrameNumber = sequence;
            }
            completeIfDone();
            return String.format(Locale.ROOT, "crc 0x%08x (%s)", r.crc(), r.access());
        });
        if (encode != null) {
            submit(encode, List.of(target), List.of(), false, () -> {
                EncodedFrame e = stages.encoder().encode(target, buffers.raw, sequence);
                long total;
                long raw;
                synchronized (this) {
                    encodedBytes += e.data().length;
                    rawBytes += e.rawBytes();
                    total = encodedBytes;
                    raw = rawBytes;
                    encodedFrames++;
                }
                completeIfDone();
                return String.format(Locale.ROOT, "%.1f MB zlib, ratio %.2f (%s)", total / 1e6, (double) total / raw,
                        e.access());
            });
        }
    }

    /** Ends the run once the display (and the encoder) have done every frame asked for. */
    private void completeIfDone() {
        boolean done;
        synchronized (this) {
            done = framesRequested > 0 && framesDone >= framesRequested
                    && (encode == null || encodedFrames >= framesRequested);
        }
        if (done) {
            end(PipelineStatusDTO.COMPLETED, null); // the teardown waits for this job's fence, on its own thread
        }
    }

    private void requeue(int cameraIndex) {
        if (cancelled) {
            return;
        }
        try {
            buffers.camera.queue(cameraIndex);
        } catch (RuntimeException e) {
            failed("capture: requeue of buffer " + cameraIndex + ": " + e.getMessage(), e);
        }
    }

    /** Stops the run, waiting a bounded time; the final status. */
    PipelineStatusDTO stop() throws InterruptedException {
        end(PipelineStatusDTO.STOPPED, null);
        ended.await(settings.stopTimeoutMillis() * 2, TimeUnit.MILLISECONDS);
        return status();
    }

    /** Waits until the run ended or the timeout passed; the status then. */
    PipelineStatusDTO await(Duration timeout) throws InterruptedException {
        ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return status();
    }

    boolean isRunning() {
        return ended.getCount() > 0;
    }

    /**
     * Ends the run once. The teardown runs on its own thread, so a stage may end the run from its executor: it
     * cancels the stages, signals the frame on screen, waits (bounded) until every fence on the run's buffers has
     * signalled (BOOKKEEP: all of them), stops the executors, gives everything back, then publishes the state.
     */
    private void end(String endState, String why) {
        if (!ending.compareAndSet(false, true)) {
            return;
        }
        cancelled = true;
        Thread teardown = new Thread(() -> teardown(endState, why), "dmabuf-pipeline-teardown");
        teardown.setDaemon(true);
        teardown.start();
    }

    private void teardown(String endState, String why) {
        String problem = why;
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.stopTimeoutMillis());
            // the last frame stays on screen until the display is done with it: after the scanout thread drained
            CompletableFuture.runAsync(() -> {
                if (onScreen != null) {
                    signalQuietly(onScreen, null);
                }
            }, scanout.executor()).exceptionally(e -> null);
            for (DmaBuf b : buffers.allBuffers()) {
                long left = Math.max(0, deadline - System.nanoTime());
                if (!b.resv().await(DmaResvUsage.BOOKKEEP, left, TimeUnit.NANOSECONDS)) {
                    problem = join(problem, "fences on " + b + " still unsignalled after "
                            + settings.stopTimeoutMillis() + " ms: " + b.resv().fences(DmaResvUsage.BOOKKEEP));
                    break;
                }
            }
            boolean interrupted = false;
            for (Stage s : allStages()) {
                s.executor().shutdown();
                try {
                    if (!s.executor().awaitTermination(Math.max(1, deadline - System.nanoTime()),
                            TimeUnit.NANOSECONDS)) {
                        s.executor().shutdownNow();
                        problem = join(problem, s.name() + " did not stop within " + settings.stopTimeoutMillis()
                                + " ms");
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            try {
                buffers.release();
            } catch (RuntimeException e) {
                problem = join(problem, "release: " + e.getMessage());
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        } finally {
            Outcome outcome = new Outcome(endState, problem);
            try {
                outcome = listener.ended(this, endState, problem, deviceGone || buffers.deviceGone());
            } catch (RuntimeException | Error e) {
                outcome = new Outcome(endState, join(problem, "recovery: " + e));
            }
            synchronized (this) {
                state = outcome.state();
                failure = outcome.failure();
                endNanos = System.nanoTime();
            }
            ended.countDown();
        }
    }

    private static String join(String problem, String more) {
        return problem == null ? more : problem + "; " + more;
    }

    /** A snapshot of the run. */
    PipelineStatusDTO status() {
        PipelineStatusDTO dto = new PipelineStatusDTO();
        synchronized (this) {
            dto.state = state;
            dto.failure = failure;
            long elapsed = (endNanos != 0 ? endNanos : System.nanoTime()) - startNanos;
            dto.elapsedMillis = TimeUnit.NANOSECONDS.toMillis(elapsed);
            dto.framesDone = framesDone;
            dto.framesPerSecond = elapsed > 0 ? framesDone * 1e9 / elapsed : 0;
            dto.bytesCopied = bytesCopied;
            dto.lastFrameCrc = lastCrc;
            dto.lastFrameNumber = lastFrameNumber;
            dto.meanStagesInFlight = overlap.meanInFlight(endNanos != 0 ? endNanos : System.nanoTime());
            dto.overlappedMillis = overlap.overlappedMillis();
        }
        dto.width = buffers.format.width();
        dto.height = buffers.format.height();
        dto.format = buffers.format.pixelFormat().fourcc();
        dto.framesRequested = framesRequested;
        dto.stages = allStages().stream().map(s -> s.stats().dto()).toArray(PipelineStatusDTO.StageDTO[]::new);
        live(dto);
        return dto;
    }

    /** Live buffers and bytes the run holds, as the core's runtime lists them (or as the run counts them). */
    private void live(PipelineStatusDTO dto) {
        Set<Long> held = new HashSet<>(buffers.heldIds());
        RuntimeDTO runtime = held.isEmpty() ? null : stages.runtime().get();
        if (runtime == null || runtime.buffers == null) {
            dto.liveBuffers = held.size();
            dto.liveBytes = buffers.heldBytes();
            return;
        }
        for (BufferDTO b : runtime.buffers) {
            if (held.contains(b.id) && BufferDTO.STATE_LIVE.equals(b.state)) {
                dto.liveBuffers++;
                dto.liveBytes += b.size;
            }
        }
    }
}
