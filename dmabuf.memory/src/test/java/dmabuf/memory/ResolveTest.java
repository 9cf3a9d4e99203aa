package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.PAGE;
import static dmabuf.memory.MemoryFixture.assertErrno;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PoolSpec;

/** A device's DMA: bus addresses from an sg table resolve to the memory itself, and only to allocated memory. */
class ResolveTest {

    @Test
    void resolveReturnsTheSameMemoryNotACopy() {
        try (MemoryFixture f = new MemoryFixture()) {
            PageAllocation a = f.gpu.createPool(PoolSpec.scattered("sys", 32 * PAGE).withMaxChunk(2 * PAGE))
                    .allocate(6 * PAGE);
            for (int i = 0; i < 6; i++) {
                a.page(i).set(JAVA_INT, 100, 0xCAFE00 + i);
            }
            // the importer's device walks its table; buffer page i is at buffer offset i * PAGE
            SgTable t = a.sgTable(Device.of("dma"));
            long bufferOffset = 0;
            for (SgTable.Entry e : t.entries()) {
                MemorySegment m = f.cam.resolve(e.dmaAddress(), e.length());
                assertEquals(e.length(), m.byteSize());
                for (long off = 0; off < e.length(); off += PAGE) {
                    int page = (int) ((bufferOffset + off) / PAGE);
                    assertEquals(0xCAFE00 + page, m.get(JAVA_INT, off + 100));
                }
                bufferOffset += e.length();
            }
            // and writes through the resolved view are seen by the CPU's page view
            MemorySegment dma = f.cam.resolve(a.runs().get(2).physAddress() + 8, 4);
            dma.set(JAVA_INT, 0, 0x600D);
            assertEquals(0x600D, a.page(4).get(JAVA_INT, 8), "run 2 holds buffer pages 4 and 5");
        }
    }

    @Test
    void freedOrNeverAllocatedPagesAreEfault() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.contiguous("cma", 8 * PAGE));
            long base = f.pool("cma").physBase;
            PageAllocation a = p.allocate(2 * PAGE);
            PageAllocation b = p.allocate(2 * PAGE);
            f.gpu.resolve(base, 4 * PAGE); // spans both allocations: allocated memory of one pool is fine

            DmaBufException never = assertErrno(Errno.EFAULT, () -> f.gpu.resolve(base + 4 * PAGE, 16));
            assertTrue(never.getMessage().contains(Sizes.hex(base + 4 * PAGE)), never.getMessage());
            assertErrno(Errno.EFAULT, () -> f.gpu.resolve(base + 3 * PAGE, PAGE + 1)); // runs into a free page

            a.close();
            DmaBufException freed = assertErrno(Errno.EFAULT, () -> f.gpu.resolve(base + 100, 8));
            assertTrue(freed.getMessage().contains("not allocated") && freed.getMessage().contains("'cma'"),
                    freed.getMessage());
            f.gpu.resolve(base + 2 * PAGE, 2 * PAGE); // b is still there
            b.close();
            assertErrno(Errno.EFAULT, () -> f.gpu.resolve(base + 2 * PAGE, 1));
        }
    }

    @Test
    void rangesCrossingPoolsOrOutsideEveryPoolAreEfault() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p1 = f.gpu.createPool(PoolSpec.contiguous("p1", 4 * PAGE));
            PagePool p2 = f.cam.createPool(PoolSpec.contiguous("p2", 4 * PAGE));
            long b1 = f.pool("p1").physBase;
            long b2 = f.pool("p2").physBase;
            assertEquals(b1 + 4 * PAGE, b2, "first fit places the pools back to back");
            p1.allocate(4 * PAGE);
            p2.allocate(4 * PAGE);
            f.gpu.resolve(b1 + 3 * PAGE, PAGE);
            f.gpu.resolve(b2, PAGE);
            DmaBufException e = assertErrno(Errno.EFAULT, () -> f.gpu.resolve(b1 + 3 * PAGE, 2 * PAGE));
            assertTrue(e.getMessage().contains("within one pool"), e.getMessage());
            assertErrno(Errno.EFAULT, () -> f.gpu.resolve(b1 - PAGE, 8)); // below every pool
            assertErrno(Errno.EFAULT, () -> f.gpu.resolve(b2 + 4 * PAGE, 8)); // past the last
            assertErrno(Errno.EFAULT, () -> f.gpu.resolve(-4096L, 8)); // never a physical address
            assertErrno(Errno.EINVAL, () -> f.gpu.resolve(b1, 0));
        }
    }

    @Test
    void closedPoolResolvesNothingAndItsViewsDie() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.contiguous("cma", 4 * PAGE));
            long base = f.pool("cma").physBase;
            PageAllocation a = p.allocate(4 * PAGE);
            MemorySegment dma = f.gpu.resolve(base, PAGE);
            MemorySegment page = a.page(1);
            p.close();
            assertErrno(Errno.EFAULT, () -> f.gpu.resolve(base, PAGE));
            assertThrows(IllegalStateException.class, () -> dma.get(JAVA_INT, 0));
            assertThrows(IllegalStateException.class, () -> page.get(JAVA_INT, 0));
        }
    }
}
