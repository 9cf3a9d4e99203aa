package dmabuf.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

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
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.ExportInfo;

/**
 * Reading, writing and copying a whole 1080p frame through the CPU views the core hands out (vmap, mmap), against the
 * same loops on the exporter's raw segments: the core's re-scoped views must cost nothing per byte.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class BandwidthBench {
    /** A 1080p RGBA frame. */
    static final long FRAME = 1920L * 1080 * 4;

    /** Two frames exported by the camera; the GPU bundle vmaps both and mmaps the first through an fd. */
    @State(Scope.Thread)
    public static class Frames {
        CoreRig rig;
        Arena arena;
        MemorySegment rawA;
        MemorySegment rawB;
        DmaBuf a;
        DmaBuf b;
        MemorySegment viewA;
        MemorySegment viewB;
        DmaBufMapping mapping;
        MemorySegment mmapA;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            arena = Arena.ofShared();
            rawA = RigOps.storage(arena, FRAME);
            rawB = RigOps.storage(arena, FRAME);
            a = rig.camera.export(ExportInfo.builder(new RigOps(rawA, 1L << 32, false, true, false), FRAME).build());
            b = rig.camera.export(ExportInfo.builder(new RigOps(rawB, 2L << 32, false, true, false), FRAME).build());
            rig.gpu.get(a);
            rig.gpu.get(b);
            viewA = rig.gpu.vmap(a);
            viewB = rig.gpu.vmap(b);
            rig.gpu.get(a);
            int fd = rig.gpu.fd(a, DmaBufUapi.O_RDWR);
            mapping = rig.gpu.mmap(fd, 0, FRAME, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE);
            mmapA = mapping.segment();
            if (viewA.address() != rawA.address() || mmapA.address() != rawA.address()) {
                throw new IllegalStateException("a view is not the exporter's memory: no zero copy");
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            mapping.close();
            rig.gpu.vunmap(a, viewA);
            rig.gpu.vunmap(b, viewB);
            rig.close();
            arena.close();
        }
    }

    static long sum(MemorySegment s) {
        long sum = 0;
        long n = s.byteSize() & ~7L;
        for (long i = 0; i < n; i += 8) {
            sum += s.get(ValueLayout.JAVA_LONG_UNALIGNED, i);
        }
        return sum;
    }

    /** Anchor: read the frame from the exporter's raw segment (scalar long loop). */
    @Benchmark
    public long readRaw(Frames f) {
        return sum(f.rawA);
    }

    /** Read the frame through the vmap view. */
    @Benchmark
    public long readVmap(Frames f) {
        return sum(f.viewA);
    }

    /** Read the frame through the mmap view. */
    @Benchmark
    public long readMmap(Frames f) {
        return sum(f.mmapA);
    }

    /** Anchor: fill the raw segment. */
    @Benchmark
    public MemorySegment fillRaw(Frames f) {
        return f.rawA.fill((byte) 7);
    }

    /** Fill through the vmap view. */
    @Benchmark
    public MemorySegment fillVmap(Frames f) {
        return f.viewA.fill((byte) 7);
    }

    /** Anchor: copy one raw frame into the other. */
    @Benchmark
    public MemorySegment copyRaw(Frames f) {
        MemorySegment.copy(f.rawA, 0, f.rawB, 0, FRAME);
        return f.rawB;
    }

    /** Copy through the vmap views. */
    @Benchmark
    public MemorySegment copyVmap(Frames f) {
        MemorySegment.copy(f.viewA, 0, f.viewB, 0, FRAME);
        return f.viewB;
    }
}
