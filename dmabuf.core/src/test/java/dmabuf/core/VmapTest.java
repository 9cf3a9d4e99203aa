package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.core.buffer.Buffer;

/** Refcounted vmap: one exporter vmap for many, the view's size and scope, failures, misuse, re-entry, races. */
class VmapTest {
    private static final long SIZE = 4 * DmaBufUapi.PAGE_SIZE;

    private final CoreFixture f = new CoreFixture();

    /** The buffer's vmap count as the core keeps it. */
    private long vmapCount(DmaBuf buf) {
        return CoreFixture.raw(buf).vmapCount();
    }

    @Test
    void firstVmapReachesExporterLaterOnesShareTheView() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);

        MemorySegment first = f.exp.vmap(buf);
        assertEquals(1, ops.count("vmap"));
        MemorySegment v2 = f.imp.vmap(buf);
        MemorySegment v3 = f.exp.vmap(buf);
        MemorySegment v4 = f.imp.vmap(buf);

        assertEquals(1, ops.count("vmap"));
        for (MemorySegment v : List.of(v2, v3, v4)) {
            assertEquals(first.address(), v.address());
            assertEquals(first.byteSize(), v.byteSize());
        }
        assertEquals(ops.storage.address(), first.address(), "zero copy: the view is the exporter's storage");
        assertEquals(4, vmapCount(buf));
        assertEquals(4, f.core.snapshots().runtimeDTO().buffers[0].vmapCount);
    }

    @Test
    void exporterVunmapOnlyAfterTheLastVunmap() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        MemorySegment a = f.exp.vmap(buf);
        MemorySegment b = f.imp.vmap(buf);
        MemorySegment c = f.imp.vmap(buf);

        f.imp.vunmap(buf, b);
        assertEquals(0, ops.count("vunmap"));
        f.exp.vunmap(buf, a);
        assertEquals(0, ops.count("vunmap"));
        assertEquals(1, vmapCount(buf));
        c.set(ValueLayout.JAVA_BYTE, 0, (byte) 7); // still valid for the last holder
        f.imp.vunmap(buf, c);

        assertEquals(1, ops.count("vunmap"));
        assertEquals(0, vmapCount(buf));

        // a new first vmap reaches the exporter again
        MemorySegment again = f.exp.vmap(buf);
        assertEquals(2, ops.count("vmap"));
        f.exp.vunmap(buf, again);
        assertEquals(2, ops.count("vunmap"));
    }

    @Test
    void viewIsExactlyTheBufferSizeEvenWhenTheExporterReturnsMore() {
        long size = 5000; // storage is page-rounded to 8192
        TestExporter ops = new TestExporter(size);
        assertEquals(8192, ops.storage.byteSize());
        DmaBuf buf = f.export(ops, size);

        MemorySegment view = f.exp.vmap(buf);

        assertEquals(size, view.byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> view.get(ValueLayout.JAVA_BYTE, size));
    }

    @Test
    void vmapWritesAreVisibleInTheExportersStorage() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        MemorySegment view = f.imp.vmap(buf);

        view.set(ValueLayout.JAVA_INT_UNALIGNED, 100, 0xCAFEBABE);
        view.set(ValueLayout.JAVA_BYTE, SIZE - 1, (byte) 0x5A);

        assertEquals(0xCAFEBABE, ops.storage.get(ValueLayout.JAVA_INT_UNALIGNED, 100));
        assertEquals((byte) 0x5A, ops.storage.get(ValueLayout.JAVA_BYTE, SIZE - 1));
        ops.storage.set(ValueLayout.JAVA_LONG_UNALIGNED, 8, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, view.get(ValueLayout.JAVA_LONG_UNALIGNED, 8));
    }

    @Test
    void failingVmapPassesTheRefusalAndLeavesNoState() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        ops.vmapFailure = new DmaBufException(Errno.ENOMEM, "no vmalloc space");

        assertErrno(Errno.ENOMEM, () -> f.imp.vmap(buf));

        assertEquals(1, ops.count("vmap"));
        assertEquals(0, ops.count("vunmap"));
        assertEquals(0, vmapCount(buf));
        assertEquals(0, f.core.snapshots().runtimeDTO().buffers[0].vmapCount);
        // the failed vmap is not the importer's to undo
        assertErrno(Errno.EINVAL, () -> f.imp.vunmap(buf, ops.storage));
        assertTrue(f.log.errors.isEmpty(), () -> "errors: " + f.log.errors);

        ops.vmapFailure = null;
        MemorySegment view = f.imp.vmap(buf);
        assertEquals(2, ops.count("vmap"), "the next vmap must call the exporter again");
        assertEquals(1, vmapCount(buf));
        f.imp.vunmap(buf, view);
        assertEquals(1, ops.count("vunmap"));
    }

    private void assertBadVmapSegmentIsEio(java.util.function.Function<TestExporter, MemorySegment> bad) {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        ops.vmapOverride = b -> bad.apply(ops);

        assertErrno(Errno.EIO, () -> f.imp.vmap(buf));

        assertEquals(0, vmapCount(buf));
        assertErrno(Errno.EINVAL, () -> f.imp.vunmap(buf, ops.storage));
        ops.vmapOverride = null;
        int before = ops.count("vmap");
        MemorySegment view = f.imp.vmap(buf);
        assertEquals(before + 1, ops.count("vmap"), "the next vmap must call the exporter again");
        assertEquals(SIZE, view.byteSize());
        assertEquals(1, vmapCount(buf));
    }

    @Test
    void exporterVmapReturningNullIsEio() {
        assertBadVmapSegmentIsEio(ops -> null);
    }

    @Test
    void exporterVmapReturningHeapSegmentIsEio() {
        assertBadVmapSegmentIsEio(ops -> MemorySegment.ofArray(new byte[(int) SIZE]));
    }

    @Test
    void exporterVmapReturningTooSmallSegmentIsEio() {
        assertBadVmapSegmentIsEio(ops -> ops.storage.asSlice(0, SIZE - 1));
    }

    @Test
    void extraVunmapIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        MemorySegment view = f.imp.vmap(buf);
        f.imp.vunmap(buf, view);

        assertErrno(Errno.EINVAL, () -> f.imp.vunmap(buf, view));
        assertErrno(Errno.EINVAL, () -> f.exp.vunmap(buf, view));

        assertEquals(1, ops.count("vunmap"));
        assertEquals(0, vmapCount(buf));
    }

    @Test
    void vunmapByBundleWithoutVmapIsEinvalAndLeavesTheOthersVmap() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        MemorySegment view = f.imp.vmap(buf);
        DmaBufRegistry third = f.bundle(30, "third.bundle");

        assertErrno(Errno.EINVAL, () -> f.exp.vunmap(buf, view));
        assertErrno(Errno.EINVAL, () -> third.vunmap(buf, view));

        assertEquals(0, ops.count("vunmap"));
        assertEquals(1, vmapCount(buf));
        view.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        assertEquals((byte) 1, ops.storage.get(ValueLayout.JAVA_BYTE, 0));
        f.imp.vunmap(buf, view);
        assertEquals(1, ops.count("vunmap"));
    }

    @Test
    void vunmapWithAnotherSegmentIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        TestExporter otherOps = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBuf other = f.exportShared(otherOps, SIZE);
        MemorySegment view = f.imp.vmap(buf);
        MemorySegment otherView = f.imp.vmap(other);

        assertErrno(Errno.EINVAL, () -> f.imp.vunmap(buf, view.asSlice(0, 10)));
        assertErrno(Errno.EINVAL, () -> f.imp.vunmap(buf, view.asSlice(DmaBufUapi.PAGE_SIZE)));
        assertErrno(Errno.EINVAL, () -> f.imp.vunmap(buf, otherView));
        assertErrno(Errno.EINVAL, () -> f.imp.vunmap(buf, null));

        assertEquals(0, ops.count("vunmap"));
        assertEquals(0, otherOps.count("vunmap"));
        assertEquals(1, vmapCount(buf));
        assertEquals(1, vmapCount(other));
        f.imp.vunmap(buf, view); // the holding was left intact by the refusals
        f.imp.vunmap(other, otherView);
        assertEquals(1, ops.count("vunmap"));
        assertEquals(1, otherOps.count("vunmap"));
    }

    @Test
    void vunmapWithAStaleViewOfAnotherBufferOnTheSameStorageIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf first = f.export(ops, SIZE);
        MemorySegment stale = f.imp.vmap(first);
        f.imp.vunmap(first, stale);
        f.exp.put(first);
        DmaBuf second = f.export(ops, SIZE); // the same storage, recycled for a new buffer
        MemorySegment fresh = f.imp.vmap(second);
        assertEquals(stale.address(), fresh.address(), "the test needs the storage to be reused");
        assertEquals(stale.byteSize(), fresh.byteSize());

        // the stale view is the first buffer's, not what vmap of the second returned
        assertErrno(Errno.EINVAL, () -> f.imp.vunmap(second, stale));

        assertEquals(1, ops.count("vunmap"), "only the first buffer's vunmap may have reached the exporter");
        assertEquals(1, vmapCount(second));
        fresh.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        f.imp.vunmap(second, fresh);
        assertEquals(2, ops.count("vunmap"));
        assertEquals(0, vmapCount(second));
    }

    @Test
    void exporterWithoutVmapIsEinval() {
        TestExporter.Minimal minimal = new TestExporter.Minimal();
        DmaBuf buf = f.exp.export(ExportInfo.builder(minimal, SIZE).build());

        assertErrno(Errno.EINVAL, () -> f.exp.vmap(buf));

        assertEquals(0, vmapCount(buf));
    }

    @Test
    void vmapCallingBackIntoTheCoreIsEdeadlkAndReleasesTheLock() throws Exception {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        AtomicReference<DmaBufException> inner = new AtomicReference<>();
        ops.insideVmap = () -> {
            try {
                f.exp.vmap(buf);
            } catch (DmaBufException e) {
                inner.set(e);
                throw e;
            }
        };

        assertErrno(Errno.EDEADLK, () -> f.imp.vmap(buf));

        assertEquals(Errno.EDEADLK, inner.get().errno());
        assertEquals(1, ops.count("vmap"), "the callback must not have reached the exporter");
        assertEquals(0, vmapCount(buf));
        ops.insideVmap = null;
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<MemorySegment> other = pool.submit(() -> f.exp.vmap(buf));
            MemorySegment view = other.get(30, TimeUnit.SECONDS);
            assertEquals(SIZE, view.byteSize());
            assertEquals(2, ops.count("vmap"));
            assertEquals(1, vmapCount(buf));
        } finally {
            pool.shutdownNow();
        }
        // and on this thread too: no stale "inside a locked op" marker
        f.imp.vmap(buf);
        assertEquals(2, vmapCount(buf));
    }

    @Test
    void concurrentVmapAndVunmapKeepTheCountExact() throws Exception {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        int threads = 4;
        int iterations = 20_000;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                DmaBufRegistry reg = t % 2 == 0 ? f.exp : f.imp;
                done.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    for (int i = 0; i < iterations; i++) {
                        MemorySegment v = reg.vmap(buf);
                        if (v.byteSize() != SIZE) {
                            throw new AssertionError("view of " + v.byteSize() + " bytes");
                        }
                        reg.vunmap(buf, v);
                    }
                    return null;
                }));
            }
            for (Future<?> d : done) {
                d.get(30, TimeUnit.SECONDS); // rethrows any failure of the worker
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        }

        assertTrue(ops.count("vmap") >= 1);
        assertEquals(ops.count("vmap"), ops.count("vunmap"));
        assertEquals(0, vmapCount(buf));
        assertEquals(0, f.core.snapshots().runtimeDTO().buffers[0].vmapCount);
        assertTrue(f.log.errors.isEmpty(), () -> "errors: " + f.log.errors);
    }

    @Test
    void viewIsInvalidAfterRelease() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.export(ops, SIZE);
        MemorySegment view = f.exp.vmap(buf);
        view.set(ValueLayout.JAVA_BYTE, 0, (byte) 3);
        f.exp.vunmap(buf, view);

        f.exp.put(buf);

        assertEquals(1, ops.count("release"));
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> view.set(ValueLayout.JAVA_BYTE, 0, (byte) 4));
        assertEquals((byte) 3, ops.storage.get(ValueLayout.JAVA_BYTE, 0), "the stale view wrote nothing");
    }

    @Test
    void staleViewStaysInvalidWhenTheExporterReusesItsStorage() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf first = f.export(ops, SIZE);
        MemorySegment stale = f.exp.vmap(first);
        f.exp.vunmap(first, stale);
        f.exp.put(first);
        assertEquals(1, ops.count("release"));

        DmaBuf second = f.export(ops, SIZE); // the same ops object: the same storage, recycled
        MemorySegment fresh = f.imp.vmap(second);

        assertNotEquals(first.id(), second.id());
        assertEquals(stale.address(), fresh.address(), "the test needs the storage to be reused");
        assertThrows(IllegalStateException.class, () -> stale.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> stale.set(ValueLayout.JAVA_BYTE, 0, (byte) 9));
        fresh.set(ValueLayout.JAVA_BYTE, 0, (byte) 42);
        assertEquals((byte) 42, fresh.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals((byte) 42, ops.storage.get(ValueLayout.JAVA_BYTE, 0));
    }
}
