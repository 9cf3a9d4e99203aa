package dmabuf.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.exporter.example.PoolBridge;

/**
 * Pipeline throughput: camera -> GPU -> display, each stage on its own thread, 4 frames of 1080p in flight. The
 * zero-copy variant hands dma-bufs on through the core (each importer: get, cached map, begin/end, unmap, put); the
 * copying variant runs the same stages and hand-offs but passes a copy of the frame at each hop. The stages do no
 * pixel work of their own, so the figures are what moving a frame costs. The primary score is wall time per frame
 * (frames/s = 1e9 / score); the counters carry CPU time of the three threads per frame and the hand-off latency.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PipelineBench {
    /** Frames in flight. */
    static final int IN_FLIGHT = 4;
    /** A 1080p RGBA frame. */
    static final long FRAME = 1920L * 1080 * 4;

    /** What the report reads: CPU time and frames of the measured window, and the latest latency percentiles. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counters {
        public long cpuNanos;
        public long cpuFrames;
        public long latencyP50Ns;
        public long latencyP99Ns;

        @Setup(Level.Iteration)
        public void reset() {
            cpuNanos = 0;
            cpuFrames = 0;
        }
    }

    /** The zero-copy pipeline: the example exporter's pool, the GPU and display bundles keep their attachments. */
    @State(Scope.Benchmark)
    public static class ZeroCopy {
        CoreRig rig;
        PoolBridge camera;
        final DmaBuf[] frames = new DmaBuf[IN_FLIGHT];
        final DmaBufAttachment[] gpuAtt = new DmaBufAttachment[IN_FLIGHT];
        final DmaBufAttachment[] displayAtt = new DmaBufAttachment[IN_FLIGHT];
        PipelineRig pipe;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            camera = new PoolBridge(rig.camera, IN_FLIGHT, FRAME, true);
            for (int i = 0; i < IN_FLIGHT; i++) {
                frames[i] = camera.export();
                rig.gpu.get(frames[i]);
                rig.display.get(frames[i]);
                gpuAtt[i] = rig.gpu.attach(frames[i], Device.of("gpu0"));
                displayAtt[i] = rig.display.attach(frames[i], Device.of("crtc0"));
                rig.gpu.mapAttachment(gpuAtt[i], DmaDataDirection.BIDIRECTIONAL);
                rig.display.mapAttachment(displayAtt[i], DmaDataDirection.TO_DEVICE);
                rig.gpu.put(frames[i]);
                rig.display.put(frames[i]);
            }
            pipe = new PipelineRig(IN_FLIGHT,
                    i -> importer(rig.gpu, frames[i], gpuAtt[i], DmaDataDirection.BIDIRECTIONAL),
                    i -> importer(rig.display, frames[i], displayAtt[i], DmaDataDirection.TO_DEVICE));
        }

        @Setup(Level.Iteration)
        public void window() {
            pipe.startWindow();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pipe.close();
            rig.close();
            camera.close();
        }
    }

    static void importer(DmaBufRegistry r, DmaBuf f, DmaBufAttachment a, DmaDataDirection dir) {
        r.get(f);
        r.unmapAttachment(a, r.mapAttachment(a, dir), dir);
        r.beginCpuAccess(f, DmaDataDirection.FROM_DEVICE);
        r.endCpuAccess(f, DmaDataDirection.FROM_DEVICE);
        r.put(f);
    }

    /** The copying pipeline: each stage owns its frames, and each hop copies into the next stage's frame. */
    @State(Scope.Benchmark)
    public static class Copying {
        Arena arena;
        final MemorySegment[] cameraFrames = new MemorySegment[IN_FLIGHT];
        final MemorySegment[] gpuFrames = new MemorySegment[IN_FLIGHT];
        final MemorySegment[] displayFrames = new MemorySegment[IN_FLIGHT];
        PipelineRig pipe;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            for (int i = 0; i < IN_FLIGHT; i++) {
                cameraFrames[i] = RigOps.storage(arena, FRAME);
                gpuFrames[i] = RigOps.storage(arena, FRAME);
                displayFrames[i] = RigOps.storage(arena, FRAME);
            }
            // The camera's copy into the GPU's frame happens on the camera thread, the GPU's into the display's on
            // the GPU thread: one copy per hop, as passing frames by value would.
            pipe = new PipelineRig(IN_FLIGHT,
                    i -> MemorySegment.copy(gpuFrames[i], 0, displayFrames[i], 0, FRAME),
                    i -> {
                    });
        }

        @Setup(Level.Iteration)
        public void window() {
            pipe.startWindow();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pipe.close();
            arena.close();
        }
    }

    /** One frame through the zero-copy pipeline (the camera brackets its write, without touching pixels). */
    @Benchmark
    public int zeroCopy(ZeroCopy z, Counters c) throws InterruptedException {
        int i = z.pipe.frame(f -> {
            z.rig.camera.beginCpuAccess(z.frames[f], DmaDataDirection.TO_DEVICE);
            z.rig.camera.endCpuAccess(z.frames[f], DmaDataDirection.TO_DEVICE);
        });
        count(z.pipe, c, 255);
        return i;
    }

    /** One frame through the copying pipeline. */
    @Benchmark
    public int copying(Copying k, Counters c) throws InterruptedException {
        int i = k.pipe.frame(f -> MemorySegment.copy(k.cameraFrames[f], 0, k.gpuFrames[f], 0, FRAME));
        count(k.pipe, c, 3);
        return i;
    }

    /** Samples the thread CPU clocks every {@code mask + 1} frames: often enough to see, rarely enough to cost. */
    private static void count(PipelineRig pipe, Counters c, int mask) {
        long frames = pipe.windowFrames();
        if ((frames & mask) == 0) {
            c.cpuNanos = pipe.windowCpuNanos();
            c.cpuFrames = frames;
            c.latencyP50Ns = pipe.p50Ns;
            c.latencyP99Ns = pipe.p99Ns;
        }
    }
}
