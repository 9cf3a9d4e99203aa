package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dmabuf.testing.NoLeaks;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.heap.DmaHeap;
import dmabuf.api.heap.DmaHeapRegistration;

/** dma-heaps: registration rules and DMA_HEAP_IOCTL_ALLOC's checks, with the errno the kernel gives. */
class HeapTest {
    private final CoreFixture f = new CoreFixture();
    /** Each test must end without a leak report, dropped buffers included (the fixture tracks every buffer). */
    @RegisterExtension
    final NoLeaks noLeaks = NoLeaks.of(() -> f.core.snapshots().runtimeDTO());

    /** A heap exporting through the exporter bundle's registry; records what it was asked. */
    private final class TestHeap implements DmaHeap {
        final List<Long> lengths = new ArrayList<>();
        final List<Long> callers = new ArrayList<>();
        final AtomicInteger released = new AtomicInteger();
        long sizeDelta;

        @Override
        public DmaBuf allocate(long length, int accessMode, long heapFlags, long callerBundleId) {
            lengths.add(length);
            callers.add(callerBundleId);
            TestExporter ops = new TestExporter(length + sizeDelta) {
                @Override
                public void release(DmaBuf dmaBuf) {
                    super.release(dmaBuf);
                    released.incrementAndGet();
                }
            };
            return f.exp.export(ExportInfo.builder(ops, length + sizeDelta).flags(accessMode).build());
        }
    }

    @Test
    void allocateGivesTheCallerAnFdHoldingTheOnlyReference() {
        TestHeap heap = new TestHeap();
        f.exp.addHeap("system", heap);
        int fd = f.imp.heapAllocate("system", 5000, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, 0);
        assertEquals(0, fd);
        assertEquals(List.of(8192L), heap.lengths, "the heap sees the page-aligned length");
        assertEquals(List.of(20L), heap.callers, "the heap is told who to charge");
        assertEquals(8192, f.imp.llseek(fd, 0, DmaBufUapi.SEEK_END));
        assertEquals(1, f.imp.fdinfo(fd).count(), "the heap's reference moved into the fd");
        assertEquals(DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, f.imp.fdinfo(fd).flags());
        f.imp.close(fd);
        assertEquals(1, heap.released.get());
        assertTrue(f.core.buffers().all().isEmpty());
    }

    @Test
    void requestsAreCheckedBeforeTheHeapSeesThem() {
        TestHeap heap = new TestHeap();
        f.exp.addHeap("system", heap);
        assertErrno(Errno.EINVAL, () -> f.imp.heapAllocate("system", 0, DmaBufUapi.O_RDWR, 0));
        assertErrno(Errno.EINVAL, () -> f.imp.heapAllocate("system", -1L, DmaBufUapi.O_RDWR, 0)); // wraps to 0
        assertErrno(Errno.EINVAL, () -> f.imp.heapAllocate("system", -4095L, DmaBufUapi.O_RDWR, 0));
        assertErrno(Errno.EINVAL, () -> f.imp.heapAllocate("system", 4096, 0x800, 0)); // O_NONBLOCK
        assertErrno(Errno.EINVAL, () -> f.imp.heapAllocate("system", 4096, 3, 0));
        assertErrno(Errno.EINVAL, () -> f.imp.heapAllocate("system", 4096, DmaBufUapi.O_RDWR, 1));
        assertErrno(Errno.ENOMEM, () -> f.imp.heapAllocate("system", Long.MIN_VALUE, DmaBufUapi.O_RDWR, 0));
        assertEquals(List.of(), heap.lengths, "none of these reached the heap");
        assertErrno(Errno.ENOENT, () -> f.imp.heapAllocate("cma", 4096, DmaBufUapi.O_RDWR, 0));
    }

    @Test
    void namesMustBeNonEmptyUniqueAndSlashFree() {
        TestHeap heap = new TestHeap();
        assertErrno(Errno.EINVAL, () -> f.exp.addHeap("", heap));
        assertErrno(Errno.EINVAL, () -> f.exp.addHeap(null, heap));
        assertErrno(Errno.EINVAL, () -> f.exp.addHeap("a/b", heap));
        assertErrno(Errno.EINVAL, () -> f.exp.addHeap("system", null));
        DmaHeapRegistration reg = f.exp.addHeap("system", heap);
        DmaBufException dup = assertErrno(Errno.EINVAL, () -> f.imp.addHeap("system", new TestHeap()));
        assertTrue(dup.getMessage().contains("exporter.bundle"), dup.getMessage());
        f.exp.addHeap("cma", new TestHeap());
        assertEquals(List.of("cma", "system"), f.imp.heaps());
        reg.close();
        reg.close(); // idempotent
        assertEquals(List.of("cma"), f.imp.heaps());
        assertErrno(Errno.ENOENT, () -> f.imp.heapAllocate("system", 4096, DmaBufUapi.O_RDWR, 0));
        f.imp.addHeap("system", new TestHeap()); // the name is free again
    }

    @Test
    void heapsGoWithTheirBundle() {
        f.exp.addHeap("system", new TestHeap());
        f.core.closeClient(f.expClient);
        assertEquals(List.of(), f.imp.heaps());
        assertEquals(0, f.core.snapshots().runtimeDTO().heaps.length);
    }

    @Test
    void aWrongSizedBufferFromTheHeapIsRefusedAndReleased() {
        TestHeap heap = new TestHeap();
        heap.sizeDelta = 4096;
        f.exp.addHeap("broken", heap);
        assertErrno(Errno.EIO, () -> f.imp.heapAllocate("broken", 4096, DmaBufUapi.O_RDWR, 0));
        assertEquals(1, heap.released.get(), "the core dropped the heap's reference");
        assertTrue(f.core.buffers().all().isEmpty());
        assertEquals(0, f.impClient.files().openCount());
        assertTrue(f.log.errors.stream().anyMatch(e -> e.contains("broken")), f.log.errors.toString());
    }

    @Test
    void aHeapThatThrowsIsEioAndItsRefusalPassesThrough() {
        f.exp.addHeap("throws", (len, mode, flags, caller) -> {
            throw new IllegalStateException("bug");
        });
        f.exp.addHeap("full", (len, mode, flags, caller) -> {
            throw new DmaBufException(Errno.ENOMEM, "heap full");
        });
        assertErrno(Errno.EIO, () -> f.imp.heapAllocate("throws", 4096, DmaBufUapi.O_RDWR, 0));
        assertErrno(Errno.ENOMEM, () -> f.imp.heapAllocate("full", 4096, DmaBufUapi.O_RDWR, 0));
    }

    @Test
    void aBufferTheHeapDoesNotOwnIsRefused() {
        DmaBuf foreign = f.bundle(30, "other").export(ExportInfo.builder(new TestExporter(4096), 4096).build());
        f.exp.addHeap("liar", (len, mode, flags, caller) -> foreign);
        assertErrno(Errno.EIO, () -> f.imp.heapAllocate("liar", 4096, DmaBufUapi.O_RDWR, 0));
        assertEquals(1, CoreFixture.raw(foreign).refCount(), "the foreign buffer is untouched");
    }

    @Test
    void whenNoFdIsFreeTheBufferIsReleased() {
        CoreFixture small = new CoreFixture(CoreConfig.DEFAULTS.withFdLimit(1));
        AtomicInteger released = new AtomicInteger();
        DmaBufRegistry exp = small.exp;
        small.exp.addHeap("system", (len, mode, flags, caller) -> exp.export(ExportInfo.builder(
                new TestExporter(len) {
                    @Override
                    public void release(DmaBuf dmaBuf) {
                        released.incrementAndGet();
                    }
                }, len).build()));
        small.imp.heapAllocate("system", 4096, DmaBufUapi.O_RDWR, 0);
        assertErrno(Errno.EMFILE, () -> small.imp.heapAllocate("system", 4096, DmaBufUapi.O_RDWR, 0));
        assertEquals(1, released.get(), "the second buffer went when its fd could not be installed");
        assertEquals(1, small.core.buffers().all().size());
    }
}
