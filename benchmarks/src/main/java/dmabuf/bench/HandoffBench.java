package dmabuf.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.SgTable;
import dmabuf.exporter.example.PoolBridge;

/**
 * One frame camera -> GPU -> display through the core, against one copy of the same frame out of cache.
 * <p>
 * The camera is the example exporter's pool (4 pre-faulted frames, exported once as a V4L2 queue exports its
 * buffers); each importer attached once per buffer and keeps its attachment, so its table is cached. Per frame each
 * importer takes a reference to the handle, maps (cached), brackets CPU access without touching pixels, unmaps and
 * puts the reference. No byte of the frame moves: setup checks that the importers' view is the exporter's memory.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HandoffBench {
    /** Frames in flight, as a camera queue. */
    static final int FRAMES = 4;

    static long frameBytes(String frame) {
        return switch (frame) {
            case "1080p" -> 1920L * 1080 * 4;
            case "4K" -> 3840L * 2160 * 4;
            default -> throw new IllegalArgumentException("frame " + frame);
        };
    }

    /** The camera -> GPU -> display chain with its frames exported and attached. */
    @State(Scope.Thread)
    public static class Chain {
        @Param({"1080p", "4K"})
        public String frame;

        private CoreRig rig;
        private PoolBridge camera;
        private final DmaBuf[] frames = new DmaBuf[FRAMES];
        private final DmaBufAttachment[] gpuAtt = new DmaBufAttachment[FRAMES];
        private final DmaBufAttachment[] displayAtt = new DmaBufAttachment[FRAMES];
        private int next;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            camera = new PoolBridge(rig.camera, FRAMES, frameBytes(frame), true);
            for (int i = 0; i < FRAMES; i++) {
                frames[i] = camera.export();
                rig.gpu.get(frames[i]);
                rig.display.get(frames[i]);
                gpuAtt[i] = rig.gpu.attach(frames[i], Device.of("gpu0"));
                displayAtt[i] = rig.display.attach(frames[i], Device.of("crtc0"));
                rig.gpu.mapAttachment(gpuAtt[i], DmaDataDirection.BIDIRECTIONAL);
                rig.display.mapAttachment(displayAtt[i], DmaDataDirection.TO_DEVICE);
                rig.gpu.put(frames[i]);
                rig.display.put(frames[i]);
                // zero copy: what an importer sees is the exporter's storage itself
                MemorySegment view = rig.gpu.vmap(frames[i]);
                MemorySegment storage = camera.storage(i);
                if (view.address() != storage.address()) {
                    throw new IllegalStateException("the GPU's view of frame " + i + " is not the camera's memory");
                }
                rig.gpu.vunmap(frames[i], view);
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            rig.close();
            camera.close();
        }
    }

    /** One frame through both importers; returns the GPU's table so nothing is dead code. */
    @Benchmark
    public SgTable handoff(Chain c) {
        int i = c.next;
        c.next = (i + 1) & (FRAMES - 1);
        SgTable gt = importer(c.rig.gpu, c.frames[i], c.gpuAtt[i], DmaDataDirection.BIDIRECTIONAL);
        importer(c.rig.display, c.frames[i], c.displayAtt[i], DmaDataDirection.TO_DEVICE);
        return gt;
    }

    private static SgTable importer(DmaBufRegistry r, DmaBuf f, DmaBufAttachment a, DmaDataDirection dir) {
        r.get(f);
        SgTable t = r.mapAttachment(a, dir);
        r.beginCpuAccess(f, DmaDataDirection.FROM_DEVICE);
        r.endCpuAccess(f, DmaDataDirection.FROM_DEVICE);
        r.unmapAttachment(a, t, dir);
        r.put(f);
        return t;
    }

    /** The anchor: copy one frame out of cache (pairs rotate through more memory than the L3 holds). */
    @State(Scope.Thread)
    public static class Copy {
        @Param({"1080p", "4K"})
        public String frame;
        private Arena arena;
        private MemorySegment[] src;
        private MemorySegment[] dst;
        private int next;

            @Setup(Level.Trial)
            public void setUp() {
                long bytes = frameBytes(frame);
                int pairs = (int) Math.max(2, (96L << 20) / (2 * bytes) + 1);
                arena = Arena.ofShared();
                src = new MemorySegment[pairs];
                dst = new MemorySegment[pairs];
                for (int i = 0; i < pairs; i++) {
                    src[i] = RigOps.storage(arena, bytes);
                    dst[i] = RigOps.storage(arena, bytes);
                }
            }

            @TearDown(Level.Trial)
            public void tearDown() {
                arena.close();
            }
        }

        /** Anchor: {@code MemorySegment.copy} of the same frame, out of cache. */
        @Benchmark
        public MemorySegment copyFrame(Copy c) {
            int i = c.next;
            c.next = i + 1 == c.src.length ? 0 : i + 1;
            MemorySegment.copy(c.src[i], 0, c.dst[i], 0, c.src[i].byteSize());
            return c.dst[i];
        }
    }
