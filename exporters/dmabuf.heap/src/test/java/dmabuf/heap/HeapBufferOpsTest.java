package dmabuf.heap;

import static dmabuf.heap.HeapFixture.MIB;
import static dmabuf.heap.HeapFixture.PAGE;
import static dmabuf.heap.HeapFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

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
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PoolSpec;

/** The per-buffer ops on their own, over a real pool: the core only passes the DmaBuf, which they never look at. */
class HeapBufferOpsTest {
    private final HeapFixture f = new HeapFixture();
    private final PagePool pool = f.heapMemory.createPool(PoolSpec.scattered("ops-test", 8 * MIB));
    private final List<HeapBufferOps> released = new ArrayList<>();

    @AfterEach
    void close() {
        pool.close();
        f.close();
    }

    private HeapBufferOps ops(long bytes) {
        PageAllocation allocation = pool.allocate(bytes);
        return new HeapBufferOps(allocation, "test", released::add);
    }

    @Test
    void releaseFreesThePagesExactlyOnce() {
        HeapBufferOps a = ops(2 * MIB);
        HeapBufferOps b = ops(MIB);
        assertEquals(5 * MIB, pool.available());
        a.release(null);
        assertTrue(a.isReleased());
        assertEquals(List.of(a), released, "the heap is told which buffer went");
        assertEquals(7 * MIB, pool.available());
        assertThrows(IllegalStateException.class, () -> a.release(null));
        assertEquals(7 * MIB, pool.available(), "a second release frees nothing");
        assertEquals(List.of(a), released);
        b.release(null);
        assertEquals(8 * MIB, pool.available());
    }

    @Test
    void mapBuildsATableForTheDeviceEveryTime() {
        HeapBufferOps a = ops(3 * MIB);
        DmaBufAttachment dev = attachment(Device.of("dev"));
        SgTable t1 = a.map(dev, DmaDataDirection.TO_DEVICE);
        SgTable t2 = a.map(dev, DmaDataDirection.TO_DEVICE);
        assertTrue(t1 != t2, "a table of its own per map");
        assertEquals(t1, t2);
        assertEquals(3 * MIB, t1.totalLength());
        SgTable small = a.map(attachment(Device.of("small-segments").withSegmentLimits(64 * 1024, 1000)),
                DmaDataDirection.TO_DEVICE);
        assertEquals(3 * MIB / (64 * 1024), small.nents(), "split to the device's segment size");
        a.unmap(dev, t1, DmaDataDirection.TO_DEVICE);
        a.release(null);
    }

    @Test
    void attachRefusesWithEbusyNamingHeapDeviceAndReason() {
        HeapBufferOps a = ops(2 * MIB);
        a.attach(null, attachment(Device.of("any")));
        DmaBufException e = assertErrno(Errno.EBUSY,
                () -> a.attach(null, attachment(Device.of("scanout").withContiguous(true))));
        assertTrue(e.getMessage().contains("dma-heap 'test'") && e.getMessage().contains("device 'scanout'")
                && e.getMessage().contains("CONTIGUOUS pool"), e.getMessage());
        a.release(null);
    }

    @Test
    void cpuViewsArePagesTheAliasAndSlicesOfIt() {
        HeapBufferOps a = ops(2 * MIB + PAGE);
        MemorySegment whole = a.vmap(null);
        assertEquals(2 * MIB + PAGE, whole.byteSize());
        assertEquals(whole.address(), a.vmap(null).address(), "the same view for every vmap");
        MemorySegment slice = a.mmap(null, new VmArea(3, 2 * PAGE, DmaBufUapi.PROT_READ));
        assertEquals(whole.address() + 3 * PAGE, slice.address());
        assertEquals(2 * PAGE, slice.byteSize());
        MemorySegment page = a.kmap(null, 300);
        assertEquals(a.allocation().page(300).address(), page.address());
        assertEquals(PAGE, page.byteSize());
        a.beginCpuAccess(null, DmaDataDirection.FROM_DEVICE, 0, PAGE);
        a.endCpuAccess(null, DmaDataDirection.FROM_DEVICE, 0, PAGE);
        a.beginCpuAccess(null, DmaDataDirection.TO_DEVICE, 0, 2 * MIB + PAGE);
        assertEquals(2, a.cpuBegins());
        assertEquals(1, a.cpuEnds());
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
