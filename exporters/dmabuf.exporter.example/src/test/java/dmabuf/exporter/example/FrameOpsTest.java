package dmabuf.exporter.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;

/** The pool and the per-buffer ops, without a core: the core passes the DmaBuf, which these ops never look at. */
class FrameOpsTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;
    /** 10 pages and a bit, so the last page is short. */
    private static final long FRAME = 10L * PAGE + 100;

    private final List<FrameOps> released = new ArrayList<>();
    private FramePool pool = new FramePool(2, FRAME);

    @AfterEach
    void closePool() {
        if (pool.isOpen() && pool.freeCount() == pool.size()) {
            pool.close();
        }
    }

    private FrameOps lend() throws InterruptedException {
        FramePool.Slot slot = pool.take(1, TimeUnit.SECONDS);
        assertNotNull(slot, "a free slot");
        return new FrameOps(pool, slot, released::add);
    }

    @Test
    void slotsArePageAlignedWholePagesAtDistinctBusAddresses() throws InterruptedException {
        FrameOps a = lend();
        FrameOps b = lend();
        assertEquals(11L * PAGE, pool.slotBytes());
        for (FrameOps ops : List.of(a, b)) {
            assertEquals(0, ops.slot().storage().address() % PAGE, "page-aligned");
            assertEquals(pool.slotBytes(), ops.slot().storage().byteSize());
            assertEquals(0, ops.slot().storage().get(ValueLayout.JAVA_BYTE, FRAME - 1), "pre-touched with zeros");
        }
        assertNotEquals(a.slot().busAddress(), b.slot().busAddress());
        assertEquals(pool.slotBytes(), Math.abs(a.slot().busAddress() - b.slot().busAddress()));
        a.release(null);
        b.release(null);
    }

    @Test
    void releaseReturnsTheSlotWhichTheNextFrameReuses() throws InterruptedException {
        FrameOps a = lend();
        FrameOps b = lend();
        assertNull(pool.take(10, TimeUnit.MILLISECONDS), "both slots are lent: no third buffer");

        a.release(null);
        assertTrue(a.isReleased());
        assertEquals(List.of(a), released, "the exporter is told which buffer went");
        FrameOps c = lend();
        assertSame(a.slot(), c.slot(), "the released slot is the one handed out again");
        assertEquals(a.slot().storage().address(), c.slot().storage().address());

        assertThrows(IllegalStateException.class, () -> a.release(null), "release runs once per buffer");
        b.release(null);
        c.release(null);
        assertTrue(pool.awaitAllFree(0, TimeUnit.MILLISECONDS));
    }

    @Test
    void everySlotIsLentOnceAtATime() throws InterruptedException {
        pool.close();
        pool = new FramePool(3, FRAME);
        Set<Integer> seen = new HashSet<>();
        List<FrameOps> all = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            FrameOps ops = lend();
            assertTrue(seen.add(ops.slot().index()), "slot " + ops.slot().index() + " lent twice");
            all.add(ops);
        }
        assertFalse(pool.awaitAllFree(10, TimeUnit.MILLISECONDS));
        all.forEach(ops -> ops.release(null));
        assertTrue(pool.awaitAllFree(10, TimeUnit.MILLISECONDS));
    }

    @Test
    void theArenaIsNotClosedWhileASlotIsLent() throws InterruptedException {
        FrameOps a = lend();
        assertThrows(IllegalStateException.class, pool::close);
        assertTrue(pool.isOpen());
        a.slot().storage().set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // still usable
        a.release(null);
        pool.close();
        assertFalse(pool.isOpen());
    }

    @Test
    void vmapReturnsTheSlotStorage() throws InterruptedException {
        FrameOps a = lend();
        MemorySegment map = a.vmap(null);
        assertEquals(a.slot().storage().address(), map.address());
        assertTrue(map.byteSize() >= FRAME, "vmap covers the whole buffer");
        map.set(ValueLayout.JAVA_BYTE, FRAME - 1, (byte) 42);
        assertEquals(42, a.slot().storage().get(ValueLayout.JAVA_BYTE, FRAME - 1), "the very storage, no copy");
        a.release(null);
    }

    @Test
    void kmapReturnsOnePageAndAShortLastPage() throws InterruptedException {
        FrameOps a = lend();
        MemorySegment first = a.kmap(null, 0);
        assertEquals(a.slot().storage().address(), first.address());
        assertEquals(PAGE, first.byteSize());
        MemorySegment third = a.kmap(null, 2);
        assertEquals(a.slot().storage().address() + 2L * PAGE, third.address());
        MemorySegment last = a.kmap(null, 10);
        assertEquals(100, last.byteSize(), "the frame ends 100 bytes into its last page");
        a.release(null);
    }

    @Test
    void mmapReturnsExactlyTheRequestedSlice() throws InterruptedException {
        FrameOps a = lend();
        long base = a.slot().storage().address();

        MemorySegment whole = a.mmap(null, new VmArea(0, 10L * PAGE, DmaBufUapi.PROT_READ));
        assertEquals(base, whole.address());
        assertEquals(10L * PAGE, whole.byteSize());

        MemorySegment middle = a.mmap(null, new VmArea(3, 2L * PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE));
        assertEquals(base + 3L * PAGE, middle.address(), "starts at vma.offset()");
        assertEquals(2L * PAGE, middle.byteSize(), "ends at vma.offset() + vma.length()");

        MemorySegment lastWhole = a.mmap(null, new VmArea(9, PAGE, DmaBufUapi.PROT_READ));
        assertEquals(base + 9L * PAGE, lastWhole.address());
        assertEquals(PAGE, lastWhole.byteSize());
        a.release(null);
    }

    @Test
    void mapIsOneContiguousSegmentCoveringTheFrameAtTheSlotsBusAddress() throws InterruptedException {
        FrameOps a = lend();
        FrameOps b = lend();
        SgTable ta = a.map(attachment(Device.of("dev")), DmaDataDirection.TO_DEVICE);
        SgTable tb = b.map(attachment(Device.of("dev")), DmaDataDirection.TO_DEVICE);
        assertEquals(1, ta.nents());
        assertEquals(FRAME, ta.totalLength());
        assertEquals(a.slot().busAddress(), ta.entries().get(0).dmaAddress());
        assertEquals(b.slot().busAddress(), tb.entries().get(0).dmaAddress());
        a.unmap(attachment(Device.of("dev")), ta, DmaDataDirection.TO_DEVICE);
        a.release(null);
        b.release(null);
    }

    @Test
    void attachAcceptsDevicesTheSlotSuitsAndRefusesOthersWithEbusy() throws InterruptedException {
        FrameOps a = lend();
        a.attach(null, attachment(Device.of("any")));
        a.attach(null, attachment(Device.of("low").withDmaMask(Device.DMA_MASK_32).withContiguous(true)));

        DmaBufException small = assertThrows(DmaBufException.class,
                () -> a.attach(null, attachment(Device.of("small").withSegmentLimits(PAGE, 64))));
        assertEquals(Errno.EBUSY, small.errno());
        DmaBufException far = assertThrows(DmaBufException.class,
                () -> a.attach(null, attachment(Device.of("24bit").withDmaMask(0xFF_FFFFL))));
        assertEquals(Errno.EBUSY, far.errno());
        a.release(null);
    }

    /** An attachment as the core would pass it: only the device matters to these ops. */
    private static DmaBufAttachment attachment(Device device) {
        return new DmaBufAttachment() {
            private Object priv;

            @Override
            public DmaBuf dmaBuf() {
                return null;
            }

            @Override
            public Device device() {
                return device;
            }

            @Override
            public boolean isDynamic() {
                return false;
            }

            @Override
            public boolean isAttached() {
                return true;
            }

            @Override
            public Object exporterPrivate() {
                return priv;
            }

            @Override
            public void setExporterPrivate(Object p) {
                this.priv = p;
            }
        };
    }
}
