package dmabuf.bench;

import java.util.List;

import dmabuf.bench.Scenario.Kind;

/** Issue 7's table, row by row, with the benchmark keys of this module. */
final class Scenarios {
    private Scenarios() {
    }

    private static Scenario row(String id, String title, String measured, String anchor, String anchorTitle,
            Kind kind, double target, boolean hot, String why) {
        return new Scenario(id, title, List.of(measured), List.of(anchor), anchorTitle, kind, target, 0, hot, why);
    }

    /** Every scenario, in the order. */
    static List<Scenario> all() {
        return List.of(
                row("handoff-1080p", "frame hand-off camera -> GPU -> display, 1080p", "HandoffBench.handoff[frame=1080p]",
                        "HandoffBench.copyFrame[frame=1080p]", "MemorySegment.copy of the frame, out of cache",
                        Kind.AT_MOST, 0.001, true, ""),
                row("handoff-4k", "frame hand-off camera -> GPU -> display, 4K", "HandoffBench.handoff[frame=4K]",
                        "HandoffBench.copyFrame[frame=4K]", "MemorySegment.copy of the frame, out of cache",
                        Kind.AT_MOST, 0.001, true, ""),
                row("pipeline", "pipeline, 3 stages on threads, buffers in flight: CPU per frame",
                        "PipelineBench.zeroCopy", "PipelineBench.copying", "the same stages passing copied frames",
                        Kind.CPU_PER_FRAME, 0.01, false, ""),
                row("pool-4k", "buffer from the exporter's pool + release, 4 KiB",
                        "BufferBench.poolExportRelease[size=4096]", "NettyAnchors.pooledAlloc4k",
                        "Netty pooled direct 4 KiB alloc + release", Kind.AT_MOST, 2, false, ""),
                row("pool-8m", "buffer from the exporter's pool + release, 8 MiB",
                        "BufferBench.poolExportRelease[size=8388608]", "NettyAnchors.pooledAlloc4k",
                        "Netty pooled direct 4 KiB alloc + release", Kind.AT_MOST, 2, false, ""),
                row("pool-32m", "buffer from the exporter's pool + release, 32 MiB",
                        "BufferBench.poolExportRelease[size=33554432]", "NettyAnchors.pooledAlloc4k",
                        "Netty pooled direct 4 KiB alloc + release", Kind.AT_MOST, 2, false, ""),
                row("fd-roundtrip", "export -> fd -> import in another bundle -> close both",
                        "BufferBench.fdRoundTrip", "PrimitiveAnchors.dupClose", "FFM dup() + close()", Kind.AT_MOST,
                        1, false, ""),
                row("getput", "get + put, 1 thread", "RefBench.getPut", "PrimitiveAnchors.atomicIncDec",
                        "AtomicInteger increment + decrement", Kind.AT_MOST, 1.5, true, ""),
                row("getput-netty", "get + put, 1 thread", "RefBench.getPut", "NettyAnchors.retainRelease",
                        "Netty retain() + release()", Kind.AT_MOST, 1, true, ""),
                row("getput-2t", "get + put, 2 threads on one buffer", "RefBench.getPut2t",
                        "PrimitiveAnchors.atomicIncDec2t", "AtomicInteger increment + decrement, 2 threads",
                        Kind.AT_MOST, 2, true, ""),
                row("begin-end", "begin + end CPU access, coherent, whole 8 MiB buffer", "CpuBench.beginEnd",
                        "PrimitiveAnchors.getppid", "FFM getppid() (the ioctl floor)", Kind.AT_MOST, 0.5, true, ""),
                row("ranged", "ranged begin/end: 64 KiB of 8 MiB, flushing exporter", "CpuBench.rangedBeginEnd",
                        "CpuBench.wholeBeginEnd", "begin/end of the whole 8 MiB buffer", Kind.AT_MOST,
                        2.0 * CpuBench.RANGE / CpuBench.SIZE, false, ""),
                new Scenario("first-map", "attach + first map of 8 MiB (2048 pages) + unmap + detach",
                        List.of("MapBench.firstMap"), List.of("PrimitiveAnchors.memfdMap8m"),
                        "memfd_create + ftruncate + mmap + munmap + close, 8 MiB", Kind.NS_PER_UNIT, 10,
                        (int) MapBench.PAGES, false, ""),
                row("cached-map", "map + unmap of a kept attachment (cached table)", "MapBench.cachedMap",
                        "NettyAnchors.retainedDuplicate", "Netty retainedDuplicate() + release()", Kind.AT_MOST, 1,
                        true, ""),
                row("kmap", "kmap + kunmap of a page in an open bracket, 1 thread", "CpuBench.kmap",
                        "PrimitiveAnchors.lockUnlock", "ReentrantLock lock + unlock", Kind.AT_MOST, 2, true, ""),
                row("kmap-2t", "kmap + kunmap, 2 threads of one bundle", "CpuBench.kmap2t",
                        "PrimitiveAnchors.lockUnlock2t", "ReentrantLock lock + unlock, 2 threads", Kind.AT_MOST, 1.5,
                        true, ""),
                row("vmap-hit", "vmap + vunmap when already vmapped, 1 thread", "CpuBench.vmapHit",
                        "PrimitiveAnchors.lockUnlock", "ReentrantLock lock + unlock", Kind.AT_MOST, 1.5, true, ""),
                row("vmap-hit-2t", "vmap + vunmap when already vmapped, 2 threads", "CpuBench.vmapHit2t",
                        "PrimitiveAnchors.lockUnlock2t", "ReentrantLock lock + unlock, 2 threads", Kind.AT_MOST,
                        1.5, true, ""),
                row("read-vmap", "read a 1080p frame through the vmap view", "BandwidthBench.readVmap",
                        "BandwidthBench.readRaw", "the same loop on the raw segment", Kind.AT_LEAST, 0.95, false,
                        ""),
                row("read-mmap", "read a 1080p frame through the mmap view", "BandwidthBench.readMmap",
                        "BandwidthBench.readRaw", "the same loop on the raw segment", Kind.AT_LEAST, 0.95, false,
                        ""),
                row("fill-vmap", "write (fill) a 1080p frame through the vmap view", "BandwidthBench.fillVmap",
                        "BandwidthBench.fillRaw", "fill of the raw segment", Kind.AT_LEAST, 0.95, false, ""),
                row("copy-vmap", "copy a 1080p frame between two vmap views", "BandwidthBench.copyVmap",
                        "BandwidthBench.copyRaw", "copy between the raw segments", Kind.AT_LEAST, 0.95, false, ""),
                row("lookup", "fd -> buffer lookup, 1 thread", "RefBench.lookup", "PrimitiveAnchors.chmGet",
                        "ConcurrentHashMap.get", Kind.AT_MOST, 1.5, true, ""),
                row("lookup-2t", "fd -> buffer lookup, 2 threads", "RefBench.lookup2t", "PrimitiveAnchors.chmGet2t",
                        "ConcurrentHashMap.get, 2 threads", Kind.AT_MOST, 1.5, true, ""),
                new Scenario("leak", "leak tracking on (SIMPLE) minus off (DISABLED), pooled 4 KiB export + release",
                        List.of("BufferBench.leakCore[level=DISABLED]", "BufferBench.leakCore[level=SIMPLE]"),
                        List.of("BufferBench.leakNetty[level=DISABLED]", "BufferBench.leakNetty[level=SIMPLE]"),
                        "Netty's SIMPLE minus DISABLED delta, pooled 4 KiB alloc + release", Kind.DELTA, 0.5, 0,
                        false, ""),
                row("export-4k", "export + release of a 4 KiB buffer (exporter with one shared arena per buffer)",
                        "BufferBench.exportRelease4k", "PrimitiveAnchors.sharedArena4k",
                        "Arena.ofShared() + allocate(4 KiB) + close", Kind.AT_MOST, 1.5, false, ""),
                row("fence", "fence signal -> waiter wake-up across threads, round trip", "FenceBench.fence",
                        "FenceBench.park", "LockSupport.park/unpark ping-pong", Kind.AT_MOST, 1.2, false, ""));
    }
}
