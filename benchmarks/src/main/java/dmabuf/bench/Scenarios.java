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
                row("handoff-1080p", "frame hand-off camera -> GPU -> display, 1080p",
                        "HandoffBench.handoff[frame=1080p]",
                        "HandoffBench.copyFrame[frame=1080p]", "MemorySegment.copy of the frame, out of cache",
                        Kind.AT_MOST, 0.001, true, "Per frame each importer makes 6 registry calls (get, map, "
                                + "begin, end, unmap, put): 12 calls, each through the bundle's door (2 atomics), "
                                + "most taking the buffer's enter/exit or lock and the bundle's holding monitor, "
                                + "i.e. roughly 40 atomic operations at ~7 ns uncontended plus cache misses on a "
                                + "shared 2-core VM. The hand-off stays ~3 orders of magnitude below a copy and "
                                + "copies 0 bytes (setup checks the importers' view is the exporter's memory); "
                                + "reaching 1/1000 on a loaded machine needs fewer calls per frame (e.g. a "
                                + "combined get+map+begin), not a cheaper call."),
                row("handoff-4k", "frame hand-off camera -> GPU -> display, 4K", "HandoffBench.handoff[frame=4K]",
                        "HandoffBench.copyFrame[frame=4K]", "MemorySegment.copy of the frame, out of cache",
                        Kind.AT_MOST, 0.001, true, "As for 1080p: the cost is per call, not per byte; see "
                                + "handoff-1080p."),
                row("pipeline", "pipeline, 3 stages on threads, buffers in flight: CPU per frame",
                        "PipelineBench.zeroCopy", "PipelineBench.copying", "the same stages passing copied frames",
                        Kind.CPU_PER_FRAME, 0.01, false, "The zero-copy pipeline's CPU per frame is dominated by "
                                + "waking the stage threads (each frame crosses 3 bounded queues: park/unpark of "
                                + "the waiting stage, tens of microseconds of scheduler work per hop on this VM), "
                                + "not by the core (~2 µs of registry calls per frame). The copying variant's 2 "
                                + "copies of 8 MiB cost ~1 ms, so the ratio is about (wake-ups + core) / "
                                + "(wake-ups + copies)."),
                row("pool-4k", "buffer from the exporter's pool + release, 4 KiB",
                        "BufferBench.poolExportRelease[size=4096]", "NettyAnchors.pooledAlloc4k",
                        "Netty pooled direct 4 KiB alloc + release", Kind.AT_MOST, 2, false, "A pooled buffer is "
                        + "a slot from the exporter's queue (a lock), a new FrameOps, export (a Buffer with its "
                        + "lock, view scope and reservation object, a holding in a ConcurrentHashMap, the runtime "
                        + "change count) and the release back (the core's finish, the pool's lock and double-give "
                        + "check). Netty's pooled 4 KiB allocation is a thread-local cache hit. The cost does not "
                        + "grow with size (pre-faulted pool), which is the point at 8 and 32 MiB where Netty does "
                        + "not pool at all (~1 ms per 8 MiB)."),
                row("pool-8m", "buffer from the exporter's pool + release, 8 MiB",
                        "BufferBench.poolExportRelease[size=8388608]", "NettyAnchors.pooledAlloc4k",
                        "Netty pooled direct 4 KiB alloc + release", Kind.AT_MOST, 2, false, "Same path as 4 KiB "
                        + "(see pool-4k): the pool is pre-faulted, so the size adds nothing; Netty's own 8 MiB "
                        + "allocation is unpooled and costs ~0.8-1 ms."),
                row("pool-32m", "buffer from the exporter's pool + release, 32 MiB",
                        "BufferBench.poolExportRelease[size=33554432]", "NettyAnchors.pooledAlloc4k",
                        "Netty pooled direct 4 KiB alloc + release", Kind.AT_MOST, 2, false, "Same path as 4 KiB "
                        + "(see pool-4k)."),
                row("fd-roundtrip", "export -> fd -> import in another bundle -> close both",
                        "BufferBench.fdRoundTrip", "PrimitiveAnchors.dupClose", "FFM dup() + close()", Kind.AT_MOST,
                        1, false, "Four registry calls plus the pooled export: each fd install creates an "
                                + "OpenFile and takes the bundle's file-table lock, get takes a reference and a "
                                + "holding, each close drops one, and every fd change bumps the runtime change "
                                + "count. dup+close are two syscalls on the kernel's fd table; matching them "
                                + "would need fds without per-bundle attribution."),
                row("getput", "get + put, 1 thread", "RefBench.getPut", "PrimitiveAnchors.atomicIncDec",
                        "AtomicInteger increment + decrement", Kind.AT_MOST, 1.5, true, "get+put is 2 registry "
                        + "calls: the bundle door (2 atomics each), the buffer's refcount (a CAS loop that "
                        + "refuses a dead buffer, and a decrement) and the bundle's holding (a ConcurrentHashMap "
                        + "lookup and a monitor each way) so a departed bundle's references can be reclaimed: "
                        + "about 8 atomic operations against the anchor's 2. The per-bundle attribution is what "
                        + "the kernel does not do."),
                row("getput-netty", "get + put, 1 thread", "RefBench.getPut", "NettyAnchors.retainRelease",
                        "Netty retain() + release()", Kind.AT_MOST, 1, true, "See getput: per-bundle reference "
                        + "attribution costs ~4x one atomic pair; Netty's retain/release is one atomic pair."),
                row("getput-2t", "get + put, 2 threads on one buffer", "RefBench.getPut2t",
                        "PrimitiveAnchors.atomicIncDec2t", "AtomicInteger increment + decrement, 2 threads",
                        Kind.AT_MOST, 2, true, "Both threads hit the same door counter, refcount and holding "
                                + "monitor (5 contended cache lines against the anchor's 1)."),
                row("begin-end", "begin + end CPU access, coherent, whole 8 MiB buffer", "CpuBench.beginEnd",
                        "PrimitiveAnchors.getppid", "FFM getppid() (the ioctl floor)", Kind.AT_MOST, 0.5, true, ""),
                row("ranged", "ranged begin/end: 64 KiB of 8 MiB, flushing exporter", "CpuBench.rangedBeginEnd",
                        "CpuBench.wholeBeginEnd", "begin/end of the whole 8 MiB buffer", Kind.AT_MOST,
                        2.0 * CpuBench.RANGE / CpuBench.SIZE, false, ""),
                new Scenario("first-map", "attach + first map of 8 MiB (2048 pages) + unmap + detach",
                        List.of("MapBench.firstMap"), List.of("PrimitiveAnchors.memfdMap8m"),
                        "memfd_create + ftruncate + mmap + munmap + close, 8 MiB", Kind.NS_PER_UNIT, 10,
                        (int) MapBench.PAGES, false, "The first map of 2048 scattered pages checks every sg entry "
                                + "against the device (DMA mask, segment size and count) and records the table; "
                                + "attach and detach add an Attachment, the exporter's hooks and the runtime "
                                + "change count. The memfd anchor makes the kernel do comparable bookkeeping in "
                                + "~7 µs; the check per entry is the cost, and a cached map (cached-map) avoids "
                                + "it entirely after the first time."),
                row("cached-map", "map + unmap of a kept attachment (cached table)", "MapBench.cachedMap",
                        "NettyAnchors.retainedDuplicate", "Netty retainedDuplicate() + release()", Kind.AT_MOST, 1,
                        true, ""),
                row("kmap", "kmap + kunmap of a page in an open bracket, 1 thread", "CpuBench.kmap",
                        "PrimitiveAnchors.lockUnlock", "ReentrantLock lock + unlock", Kind.AT_MOST, 2, true,
                        "kmap returns a new MemorySegment re-scoped to the buffer (so a stale page view throws "
                        + "after release) and records it in the bundle's holding to check kunmap: 72 B of the 112 "
                        + "B/op (the rest is the exporter's own page slice), plus the bracket check and the "
                        + "buffer's enter/exit. Not 0 B/op: JDK segments are objects and the view escapes to the "
                        + "caller; caching one view per page per buffer would fix it and is left for a follow-up "
                        + "(it needs care with revocation)."),
                row("kmap-2t", "kmap + kunmap, 2 threads of one bundle", "CpuBench.kmap2t",
                        "PrimitiveAnchors.lockUnlock2t", "ReentrantLock lock + unlock, 2 threads", Kind.AT_MOST, 1.5,
                        true, "See kmap; both threads also contend on the bundle's holding monitor."),
                row("vmap-hit", "vmap + vunmap when already vmapped, 1 thread", "CpuBench.vmapHit",
                        "PrimitiveAnchors.lockUnlock", "ReentrantLock lock + unlock", Kind.AT_MOST, 1.5, true,
                        "vmap and vunmap each take the buffer's lock (a ReentrantLock with a timeout, so a "
                        + "stuck driver cannot hang the caller), the bundle door and the holding monitor, and "
                        + "vunmap checks the view's scope: 2 lock pairs, 2 monitor pairs and 4 door atomics "
                        + "against the anchor's 1 lock pair. 0 B/op."),
                row("vmap-hit-2t", "vmap + vunmap when already vmapped, 2 threads", "CpuBench.vmapHit2t",
                        "PrimitiveAnchors.lockUnlock2t", "ReentrantLock lock + unlock, 2 threads", Kind.AT_MOST,
                        1.5, true, "See vmap-hit; contended on the same buffer lock."),
                row("read-vmap", "read a 1080p frame through the vmap view", "BandwidthBench.readVmap",
                        "BandwidthBench.readRaw", "the same loop on the raw segment", Kind.AT_LEAST, 0.95, false,
                        "The views are re-scoped to the buffer's shared arena; a scalar read loop over a "
                        + "shared-scope segment pays a liveness check the JIT does not always hoist, where the "
                        + "exporter's raw segment (global/pool scope) pays none. Bulk operations (fill, copy) are "
                        + "unaffected."),
                row("read-mmap", "read a 1080p frame through the mmap view", "BandwidthBench.readMmap",
                        "BandwidthBench.readRaw", "the same loop on the raw segment", Kind.AT_LEAST, 0.95, false,
                        "See read-vmap: the mmap view has the same buffer scope."),
                row("fill-vmap", "write (fill) a 1080p frame through the vmap view", "BandwidthBench.fillVmap",
                        "BandwidthBench.fillRaw", "fill of the raw segment", Kind.AT_LEAST, 0.95, false, "See "
                        + "read-vmap."),
                row("copy-vmap", "copy a 1080p frame between two vmap views", "BandwidthBench.copyVmap",
                        "BandwidthBench.copyRaw", "copy between the raw segments", Kind.AT_LEAST, 0.95, false,
                        "See read-vmap."),
                row("lookup", "fd -> buffer lookup, 1 thread", "RefBench.lookup", "PrimitiveAnchors.chmGet",
                        "ConcurrentHashMap.get", Kind.AT_MOST, 1.5, true, "The fd lookup is a volatile read of "
                        + "the file table plus a bounds-checked AtomicReferenceArray read; within noise of "
                        + "ConcurrentHashMap.get."),
                row("lookup-2t", "fd -> buffer lookup, 2 threads", "RefBench.lookup2t", "PrimitiveAnchors.chmGet2t",
                        "ConcurrentHashMap.get, 2 threads", Kind.AT_MOST, 1.5, true,
                        "Both threads only read (a volatile read of the table and one array slot: no write, no "
                                + "contention), so the core adds nothing that 2 threads could fight over; on a "
                                + "loaded run the 2-thread anchor's error is as large as its figure."),
                new Scenario("leak", "leak tracking on (SIMPLE) minus off (DISABLED), pooled 4 KiB export + release",
                        List.of("BufferBench.leakCore[level=DISABLED]", "BufferBench.leakCore[level=SIMPLE]"),
                        List.of("BufferBench.leakNetty[level=DISABLED]", "BufferBench.leakNetty[level=SIMPLE]"),
                        "Netty's SIMPLE minus DISABLED delta, pooled 4 KiB alloc + release", Kind.DELTA, 0.5, 0,
                        false, "The core's leak tracking (SIMPLE) costs nothing per buffer: reports are made when "
                                + "a bundle goes away."),
                row("export-4k", "export + release of a 4 KiB buffer (exporter with one shared arena per buffer)",
                        "BufferBench.exportRelease4k", "PrimitiveAnchors.sharedArena4k",
                        "Arena.ofShared() + allocate(4 KiB) + close", Kind.AT_MOST, 1.5, false,
                        "Within the error of a loaded run (see the ± of both figures). Export and release add "
                        + "a Buffer (lock, view scope, reservation object), a holding and the runtime "
                        + "change count on top of the exporter's shared arena, whose close (a handshake with "
                        + "every thread, ~20 µs) dominates both sides."),
                row("fence", "fence signal -> waiter wake-up across threads, round trip", "FenceBench.fence",
                        "FenceBench.park", "LockSupport.park/unpark ping-pong", Kind.AT_MOST, 1.2, false, "Each "
                        + "round creates 2 fences (a driver makes one per job; 277 B/op) and signalling runs the "
                        + "fence's callbacks and counts down its latch under the fence's monitor before the "
                        + "waiter's unpark: the same park/unpark plus the fence's own bookkeeping."));
    }
}
