package dmabuf.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
import org.openjdk.jmh.annotations.Threads;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.ExportInfo;

/**
 * CPU access: begin + end on a coherent buffer, ranged against whole brackets on a flushing exporter, kmap + kunmap
 * of a page inside an open bracket, and vmap + vunmap while the buffer is already vmapped (1 and 2 threads).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CpuBench {
    /** 8 MiB: 2048 pages. */
    static final long SIZE = 8L << 20;
    /** The ranged bracket: 64 KiB, 1/128 of the buffer. */
    static final long RANGE = 64L << 10;

    /**
     * Two 8 MiB buffers exported by the camera bundle: a coherent one (begin/end do nothing in the exporter), which
     * the GPU bundle keeps bracketed for kmap and vmapped for the vmap hit, and a flushing one (begin/end touch each
     * cache line of their range).
     */
    @State(Scope.Benchmark)
    public static class Buffers {
        CoreRig rig;
        Arena arena;
        DmaBuf coherent;
        DmaBuf flushing;
        DmaBuf bracketed;
        MemorySegment held;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            arena = Arena.ofShared();
            coherent = rig.camera.export(ExportInfo.builder(
                    new RigOps(RigOps.storage(arena, SIZE), 1L << 32, false, true, false), SIZE).build());
            flushing = rig.camera.export(ExportInfo.builder(
                    new RigOps(RigOps.storage(arena, SIZE), 2L << 32, false, true, true), SIZE).build());
            bracketed = rig.camera.export(ExportInfo.builder(
                    new RigOps(RigOps.storage(arena, SIZE), 3L << 32, false, true, false), SIZE).build());
            rig.gpu.get(coherent);
            rig.gpu.get(flushing);
            rig.gpu.get(bracketed);
            rig.gpu.beginCpuAccess(bracketed, DmaDataDirection.BIDIRECTIONAL);
            held = rig.camera.vmap(bracketed); // the vmap hit: someone already has it vmapped
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            rig.camera.vunmap(bracketed, held);
            rig.gpu.endCpuAccess(bracketed, DmaDataDirection.BIDIRECTIONAL);
            rig.close();
            arena.close();
        }
    }

    /** Each thread kmaps its own page. */
    @State(Scope.Thread)
    public static class Page {
        long index;

        @Setup(Level.Trial)
        public void setUp() {
            index = (Thread.currentThread().threadId() * 7L) % (SIZE / 4096);
        }
    }

    /** begin + end CPU access of the whole coherent buffer (the DMA_BUF_IOCTL_SYNC pair). */
    @Benchmark
    public DmaBuf beginEnd(Buffers s) {
        s.rig.gpu.beginCpuAccess(s.coherent, DmaDataDirection.FROM_DEVICE);
        s.rig.gpu.endCpuAccess(s.coherent, DmaDataDirection.FROM_DEVICE);
        return s.coherent;
    }

    /** begin + end of 64 KiB of the flushing buffer. */
    @Benchmark
    public DmaBuf rangedBeginEnd(Buffers s) {
        s.rig.gpu.beginCpuAccess(s.flushing, DmaDataDirection.FROM_DEVICE, 1L << 20, RANGE);
        s.rig.gpu.endCpuAccess(s.flushing, DmaDataDirection.FROM_DEVICE, 1L << 20, RANGE);
        return s.flushing;
    }

    /** Anchor for the ranged bracket: begin + end of the whole flushing buffer. */
    @Benchmark
    public DmaBuf wholeBeginEnd(Buffers s) {
        s.rig.gpu.beginCpuAccess(s.flushing, DmaDataDirection.FROM_DEVICE);
        s.rig.gpu.endCpuAccess(s.flushing, DmaDataDirection.FROM_DEVICE);
        return s.flushing;
    }

    /** kmap + kunmap of one page inside the open bracket. */
    @Benchmark
    public long kmap(Buffers s, Page p) {
        MemorySegment page = s.rig.gpu.kmap(s.bracketed, p.index);
        long address = page.address();
        s.rig.gpu.kunmap(s.bracketed, p.index, page);
        return address;
    }

    /** The same from 2 threads of the GPU bundle, each on its own page. */
    @Benchmark
    @Threads(2)
    public long kmap2t(Buffers s, Page p) {
        return kmap(s, p);
    }

    /** vmap + vunmap while the buffer is already vmapped (the refcount hit). */
    @Benchmark
    public long vmapHit(Buffers s) {
        MemorySegment v = s.rig.gpu.vmap(s.bracketed);
        long address = v.address();
        s.rig.gpu.vunmap(s.bracketed, v);
        return address;
    }

    /** The same from 2 threads. */
    @Benchmark
    @Threads(2)
    public long vmapHit2t(Buffers s) {
        return vmapHit(s);
    }
}
