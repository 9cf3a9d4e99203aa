package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.PAGE;
import static dmabuf.memory.MemoryFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PageRun;
import dmabuf.api.memory.PoolSpec;
import dmabuf.memory.pool.SgTables;

/** Scatter-gather tables for devices: merging, splitting, and the reasons a device cannot use an allocation. */
class SgTableTest {
    private static final Device ANY = Device.of("any");

    @Test
    void runsAdjacentInBufferOrderMergeOthersDoNot() {
        List<PageRun> runs = List.of(new PageRun(0x1000_0000L, 2), new PageRun(0x1000_2000L, 1),
                new PageRun(0x2000_0000L, 1), new PageRun(0x1FFF_F000L, 1));
        SgTable t = SgTables.build(runs, ANY);
        assertEquals(List.of(new SgTable.Entry(0x1000_0000L, 3 * PAGE), new SgTable.Entry(0x2000_0000L, PAGE),
                new SgTable.Entry(0x1FFF_F000L, PAGE)), t.entries(),
                "the last run precedes the third physically, which is not adjacency in buffer order");
    }

    @Test
    void contiguousAllocationSplitsToMaxSegmentSize() {
        try (MemoryFixture f = new MemoryFixture()) {
            PageAllocation a = f.gpu.createPool(PoolSpec.contiguous("cma", 64 * PAGE)).allocate(10 * PAGE);
            long base = a.runs().get(0).physAddress();
            SgTable t = a.sgTable(ANY.withSegmentLimits(4 * PAGE, 8));
            assertEquals(List.of(new SgTable.Entry(base, 4 * PAGE), new SgTable.Entry(base + 4 * PAGE, 4 * PAGE),
                    new SgTable.Entry(base + 8 * PAGE, 2 * PAGE)), t.entries());
            assertTrue(t.isContiguous());
            // a limit that is not a whole number of pages is rounded down, as the kernel does
            assertEquals(5, a.sgTable(ANY.withSegmentLimits(2 * PAGE + 100, 8)).nents());
            assertEquals(1, a.sgTable(ANY).nents());
        }
    }

    @Test
    void scatteredAllocationCoversItselfInBufferOrder() {
        try (MemoryFixture f = new MemoryFixture()) {
            PageAllocation a = f.gpu.createPool(PoolSpec.scattered("sys", 64 * PAGE).withMaxChunk(4 * PAGE))
                    .allocate(10 * PAGE);
            SgTable t = a.sgTable(ANY);
            assertEquals(3, t.nents());
            assertEquals(10 * PAGE, t.totalLength());
            for (int i = 0; i < 3; i++) {
                assertEquals(a.runs().get(i).physAddress(), t.entries().get(i).dmaAddress());
                assertEquals(a.runs().get(i).bytes(), t.entries().get(i).length());
            }
            assertNull(a.unusableBy(ANY), "a capable device can use it");
        }
    }

    @Test
    void segmentCountLimitIsEinvalWithReason() {
        try (MemoryFixture f = new MemoryFixture()) {
            PageAllocation a = f.gpu.createPool(PoolSpec.scattered("sys", 64 * PAGE).withMaxChunk(4 * PAGE))
                    .allocate(10 * PAGE);
            Device two = ANY.withSegmentLimits(Long.MAX_VALUE, 2);
            String why = a.unusableBy(two);
            assertTrue(why != null && why.contains("needs 3 segments") && why.contains("at most 2"), why);
            DmaBufException e = assertErrno(Errno.EINVAL, () -> a.sgTable(two));
            assertTrue(e.getMessage().endsWith(why), e.getMessage());
            // the split counts too: one 10-page run split to 4 pages is 3 segments
            PageAllocation c = f.gpu.createPool(PoolSpec.contiguous("cma", 64 * PAGE)).allocate(10 * PAGE);
            assertTrue(c.unusableBy(ANY.withSegmentLimits(4 * PAGE, 2)).contains("needs 3 segments"));
            assertNull(c.unusableBy(ANY.withSegmentLimits(4 * PAGE, 3)));
        }
    }

    @Test
    void contiguousDeviceRefusesScatteredButTakesASplitContiguousRun() {
        try (MemoryFixture f = new MemoryFixture()) {
            Device scanout = ANY.withContiguous(true);
            PageAllocation s = f.gpu.createPool(PoolSpec.scattered("sys", 64 * PAGE).withMaxChunk(4 * PAGE))
                    .allocate(10 * PAGE);
            String why = s.unusableBy(scanout);
            assertTrue(why.contains("needs physically contiguous memory") && why.contains("3 separate runs"), why);
            assertErrno(Errno.EINVAL, () -> s.sgTable(scanout));
            PageAllocation c = f.gpu.createPool(PoolSpec.contiguous("cma", 64 * PAGE)).allocate(10 * PAGE);
            assertNull(c.unusableBy(scanout));
            SgTable t = c.sgTable(scanout.withSegmentLimits(4 * PAGE, 8));
            assertEquals(3, t.nents(), "contiguous means physically contiguous; the size split is still applied");
            assertTrue(t.isContiguous());
        }
    }

    @Test
    void pageBeyondTheDeviceMaskIsEinvalNamingAddressAndMask() {
        try (MemoryFixture f = new MemoryFixture()) {
            Device dev32 = ANY.withDmaMask(Device.DMA_MASK_32);
            PageAllocation high = f.gpu.createPool(PoolSpec.scattered("high", 16 * PAGE)).allocate(PAGE);
            String why = high.unusableBy(dev32);
            long addr = high.runs().get(0).physAddress();
            assertTrue(why.contains(Sizes.hex(addr)) && why.contains("0xffffffff") && why.contains("'any'"), why);
            DmaBufException e = assertErrno(Errno.EINVAL, () -> high.sgTable(dev32));
            assertTrue(e.getMessage().contains("DMA mask 0xffffffff"), e.getMessage());
            PageAllocation low = f.gpu.createPool(PoolSpec.scattered("low", 16 * PAGE)
                    .withDmaMask(Device.DMA_MASK_32)).allocate(PAGE);
            assertNull(low.unusableBy(dev32));
            assertEquals(1, low.sgTable(dev32).nents());
        }
    }

    @Test
    void segmentStraddlingTheMaskNamesTheFirstPageBeyondIt() {
        List<PageRun> runs = List.of(new PageRun(0xFFFF_E000L, 4));
        String why = SgTables.unusable(runs, ANY.withDmaMask(Device.DMA_MASK_32));
        assertTrue(why.contains("0x100000000") && why.contains("[0xffffe000, 0x100002000)"), why);
    }

    @Test
    void freedAllocationHasNoTable() {
        try (MemoryFixture f = new MemoryFixture()) {
            PageAllocation a = f.gpu.createPool(PoolSpec.scattered("p", 4 * PAGE)).allocate(PAGE);
            a.close();
            assertTrue(a.unusableBy(ANY).contains("freed"));
            assertErrno(Errno.EINVAL, () -> a.sgTable(ANY));
        }
    }
}
