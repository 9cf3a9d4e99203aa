package dmabuf.pipeline.internal;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.exporter.v4l2.api.Frame;
import dmabuf.importer.display.api.ScanoutResult;
import dmabuf.importer.encoder.api.EncodedFrame;
import dmabuf.importer.gpu.api.RenderResult;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * One run: a thread per stage (capture, render, scanout, encode), each taking work from the {@link Handoff} before it
 * and passing buffer indices to the next; pixels stay in the exporters' buffers. A framebuffer goes back to the GPU
 * when it is off screen and encoded. The run ends when the last stage has done the frames asked for, on
 * {@link #stop}, or when a stage fails; whoever ends it joins the stage threads (bounded) and gives the buffers back.
 */
final class PipelineRun {
    private final PipelineSettings settings;
    private final long framesRequested;
    private final RunBuffers buffers;
    private final Stages stages;
    private final StageStats capture;
    private final StageStats render;
    private final StageStats scanout;
    private final StageStats encode;
    private volatile boolean cancelled;
    private final Handoff<Shot> captured;
    private final Handoff<Shot> rendered;
    private final Handoff<Shot> shown;
    private final Handoff<Integer> free;
    /** Per framebuffer: how many of display and encoder still need it. */
    private final AtomicInteger[] holds;
    private final List<Thread> threads;
    private final AtomicBoolean ending = new AtomicBoolean();
    private final CountDownLatch ended = new CountDownLatch(1);
    private final long startNanos = System.nanoTime();
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

    /** A camera frame and, once rendered, the framebuffer it is in. */
    private record Shot(int cameraIndex, long sequence, int framebuffer) {
    }

    private PipelineRun(Stages stages, PipelineSettings settings, long frames, RunBuffers buffers) {
        this.stages = stages;
        this.settings = settings;
        this.framesRequested = frames;
        this.buffers = buffers;
        this.capture = new StageStats("capture", buffers.camera.name());
        this.render = new StageStats("render", stages.gpu().device().name());
        this.scanout = new StageStats("scanout", stages.display().device().name());
        this.encode = new StageStats("encode", stages.encoder().device().name());
        this.captured = new Handoff<>(buffers.cameraBuffers.length, () -> cancelled);
        this.rendered = new Handoff<>(buffers.framebuffers.length, () -> cancelled);
        this.shown = new Handoff<>(buffers.framebuffers.length, () -> cancelled);
        this.free = new Handoff<>(buffers.framebuffers.length, () -> cancelled);
        this.holds = new AtomicInteger[buffers.framebuffers.length];
        for (int i = 0; i < holds.length; i++) {
            holds[i] = new AtomicInteger();
        }
        this.threads = settings.encode()
                ? List.of(thread("capture", this::captureLoop), thread("render", this::renderLoop),
                        thread("scanout", this::scanoutLoop), thread("encode", this::encodeLoop))
                : List.of(thread("capture", this::captureLoop), thread("render", this::renderLoop),
                        thread("scanout", this::scanoutLoop));
    }

    /**
     * Allocates the run's buffers and starts its threads.
     *
     * @throws DmaBufException as {@link RunBuffers#allocate}
     */
    static PipelineRun start(Stages stages, PipelineSettings settings, long frames) {
        RunBuffers buffers = RunBuffers.allocate(stages, settings);
        PipelineRun run = new PipelineRun(stages, settings, frames, buffers);
        for (int i = 0; i < run.holds.length; i++) {
            try {
                run.free.put(i);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                buffers.release();
                throw new DmaBufException(Errno.EINTR, "interrupted while starting the pipeline");
            }
        }
        run.threads.forEach(Thread::start);
        return run;
    }

    private interface StageBody {
        void run() throws InterruptedException;
    }

    private Thread thread(String stage, StageBody body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (InterruptedException e) {
                end(PipelineStatusDTO.STOPPED, null);
            } catch (RuntimeException e) {
                if (!cancelled) {
                    end(PipelineStatusDTO.FAILED, stage + ": " + e.getMessage());
                }
            }
        }, "dmabuf-pipeline-" + stage);
        t.setDaemon(true);
        return t;
    }

    private boolean more(long done) {
        return !cancelled && (framesRequested == 0 || done < framesRequested);
    }

    private void captureLoop() throws InterruptedException {
        long done = 0;
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
            capture.record(t0, buffers.format.toString());
            done++;
            if (!captured.put(new Shot(f.index(), f.sequence(), -1))) {
                return;
            }
        }
    }

    private void renderLoop() throws InterruptedException {
        long done = 0;
        while (more(done)) {
            Shot shot = captured.take();
            Integer fb = shot == null ? null : free.take();
            if (fb == null) {
                return;
            }
            long t0 = System.nanoTime();
            RenderResult r = stages.gpu().render(buffers.cameraBuffers[shot.cameraIndex()], buffers.texture,
                    buffers.framebuffers[fb], buffers.target, settings.matrix());
            render.record(t0, settings.matrix().name() + ", " + buffers.texture.format() + " -> XRGB8888 ("
                    + r.sourceAccess() + "/" + r.targetAccess() + ")");
            synchronized (this) {
                bytesCopied += r.bytesCopied();
            }
            buffers.camera.queue(shot.cameraIndex());
            holds[fb].set(settings.encode() ? 2 : 1);
            done++;
            if (!rendered.put(new Shot(shot.cameraIndex(), shot.sequence(), fb))) {
                return;
            }
        }
    }

    private void scanoutLoop() throws InterruptedException {
        long done = 0;
        int onScreen = -1;
        while (more(done)) {
            Shot shot = rendered.take();
            if (shot == null) {
                return;
            }
            long t0 = System.nanoTime();
            ScanoutResult r = stages.display().pageFlip(buffers.framebuffers[shot.framebuffer()],
                    buffers.framebuffer);
            scanout.record(t0, String.format(Locale.ROOT, "crc 0x%08x (%s)", r.crc(), r.access()));
            if (onScreen >= 0) {
                letGo(onScreen);
            }
            onScreen = shot.framebuffer();
            done++;
            synchronized (this) {
                framesDone = done;
                lastCrc = r.crc();
                lastFrameNumber = shot.sequence();
            }
            if (settings.encode()) {
                if (!shown.put(shot)) {
                    return;
                }
            } else if (framesRequested > 0 && done == framesRequested) {
                end(PipelineStatusDTO.COMPLETED, null);
            }
        }
    }

    private void encodeLoop() throws InterruptedException {
        long done = 0;
        while (more(done)) {
            Shot shot = shown.take();
            if (shot == null) {
                return;
            }
            long t0 = System.nanoTime();
            EncodedFrame e = stages.encoder().encode(buffers.framebuffers[shot.framebuffer()], buffers.raw,
                    shot.sequence());
            long total;
            long raw;
            synchronized (this) {
                encodedBytes += e.data().length;
                rawBytes += e.rawBytes();
                total = encodedBytes;
                raw = rawBytes;
            }
            encode.record(t0, String.format(Locale.ROOT, "%.1f MB zlib, ratio %.2f (%s)", total / 1e6,
                    (double) total / raw, e.access()));
            letGo(shot.framebuffer());
            done++;
            if (framesRequested > 0 && done == framesRequested) {
                end(PipelineStatusDTO.COMPLETED, null);
            }
        }
    }

    /** One of display and encoder is done with a framebuffer; the last one gives it back to the GPU. */
    private void letGo(int fb) throws InterruptedException {
        if (holds[fb].decrementAndGet() == 0) {
            free.put(fb);
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

    /** Ends the run once: cancels the stages, joins them (bounded), gives everything back, then publishes the state. */
    private void end(String endState, String why) {
        if (!ending.compareAndSet(false, true)) {
            return;
        }
        cancelled = true;
        String problem = why;
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.stopTimeoutMillis());
            boolean interrupted = false;
            for (Thread t : threads) {
                if (t == Thread.currentThread()) {
                    continue;
                }
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                if (t.isAlive()) {
                    problem = (problem == null ? "" : problem + "; ") + t.getName() + " did not stop within "
                            + settings.stopTimeoutMillis() + " ms";
                }
            }
            try {
                buffers.release();
            } catch (RuntimeException e) {
                problem = (problem == null ? "" : problem + "; ") + "release: " + e.getMessage();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        } finally {
            synchronized (this) {
                state = endState;
                failure = problem;
                endNanos = System.nanoTime();
            }
            ended.countDown();
        }
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
        }
        dto.width = buffers.format.width();
        dto.height = buffers.format.height();
        dto.format = buffers.format.pixelFormat().fourcc();
        dto.framesRequested = framesRequested;
        dto.stages = settings.encode()
                ? new PipelineStatusDTO.StageDTO[] {capture.dto(), render.dto(), scanout.dto(), encode.dto()}
                : new PipelineStatusDTO.StageDTO[] {capture.dto(), render.dto(), scanout.dto()};
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
