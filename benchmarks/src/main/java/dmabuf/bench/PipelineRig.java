package dmabuf.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Three stages on their own threads: the caller (the camera, JMH's thread) and two workers (GPU, display) the rig
 * owns, joined by bounded FIFO hand-offs that carry frame indices, never pixels; {@code inFlight} frames circulate
 * and the display gives each back to the camera. What a stage does to a frame is the variant's business. Every wait
 * is bounded and gives up when the rig stops, so a stopping benchmark never hangs.
 * <p>
 * Measures, for the report: CPU time of the three threads per frame (thread CPU clocks, sampled every 256 frames),
 * and the hand-off latency from the camera's hand-off to the display's receipt (p50/p99 over the last 1024 frames).
 */
final class PipelineRig implements AutoCloseable {
    private static final long POLL_MS = 20;
    private static final int WINDOW = 1024;

    private final ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    private final BlockingQueue<Integer> toGpu;
    private final BlockingQueue<Integer> toDisplay;
    private final BlockingQueue<Integer> free;
    private final long[] handedAt;
    private final long[] latencies = new long[WINDOW];
    private int latencyCount;
    private final Thread gpuThread;
    private final Thread displayThread;
    private volatile boolean stopped;
    private volatile Throwable failure;
    volatile long p50Ns;
    volatile long p99Ns;
    private long cpuStart;
    private long framesAtStart;
    private long frames;

    /**
     * Starts the two worker threads.
     *
     * @param inFlight frames circulating
     * @param gpu      what the GPU stage does to frame i
     * @param display  what the display stage does to frame i
     */
    PipelineRig(int inFlight, IntConsumer gpu, IntConsumer display) {
        toGpu = new ArrayBlockingQueue<>(inFlight);
        toDisplay = new ArrayBlockingQueue<>(inFlight);
        free = new ArrayBlockingQueue<>(inFlight);
        handedAt = new long[inFlight];
        for (int i = 0; i < inFlight; i++) {
            free.add(i);
        }
        gpuThread = new Thread(() -> loop(toGpu, i -> {
            gpu.accept(i);
            pass(toDisplay, i);
        }), "pipeline-gpu");
        displayThread = new Thread(() -> loop(toDisplay, i -> {
            long latency = System.nanoTime() - handedAt[i];
            display.accept(i);
            record(latency);
            pass(free, i);
        }), "pipeline-display");
        gpuThread.setDaemon(true);
        displayThread.setDaemon(true);
        gpuThread.start();
        displayThread.start();
    }

    private void loop(BlockingQueue<Integer> in, IntConsumer stage) {
        try {
            while (!stopped) {
                Integer i = in.poll(POLL_MS, TimeUnit.MILLISECONDS);
                if (i != null) {
                    stage.accept(i);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable t) {
            failure = t;
        }
    }

    private void pass(BlockingQueue<Integer> out, int i) {
        try {
            while (!stopped && !out.offer(i, POLL_MS, TimeUnit.MILLISECONDS)) {
                // bounded retries until there is room or the rig stops
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void record(long latency) {
        latencies[latencyCount++ % WINDOW] = latency;
        if (latencyCount % WINDOW == 0) {
            long[] sorted = latencies.clone();
            Arrays.sort(sorted);
            p50Ns = sorted[WINDOW / 2];
            p99Ns = sorted[WINDOW * 99 / 100];
        }
    }

    /**
     * The camera's part of one frame: takes a free frame (waits for the display to give one back), lets
     * {@code camera} produce into it, hands it to the GPU.
     *
     * @return the frame index, or -1 when the rig stopped
     */
    int frame(IntConsumer camera) throws InterruptedException {
        Integer i;
        do {
            checkFailure();
            i = free.poll(POLL_MS, TimeUnit.MILLISECONDS);
        } while (i == null && !stopped);
        if (i == null) {
            return -1;
        }
        camera.accept(i);
        handedAt[i] = System.nanoTime();
        pass(toGpu, i);
        frames++;
        return i;
    }

    /** Starts a CPU measurement window (at the start of each iteration). */
    void startWindow() {
        cpuStart = cpuNanos();
        framesAtStart = frames;
    }

    /** CPU time of the three stage threads since {@link #startWindow()}. */
    long windowCpuNanos() {
        return cpuNanos() - cpuStart;
    }

    /** Frames since {@link #startWindow()}. */
    long windowFrames() {
        return frames - framesAtStart;
    }

    private long cpuNanos() {
        return cpu.getCurrentThreadCpuTime() + cpu.getThreadCpuTime(gpuThread.threadId())
                + cpu.getThreadCpuTime(displayThread.threadId());
    }

    private void checkFailure() {
        Throwable t = failure;
        if (t != null) {
            throw new IllegalStateException("a pipeline stage failed", t);
        }
    }

    /** Stops and joins the workers (bounded), then reports a stage failure if there was one. */
    @Override
    public void close() {
        stopped = true;
        try {
            gpuThread.join(5_000);
            displayThread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        checkFailure();
    }
}
