package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.MIB;
import static dmabuf.memory.MemoryFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PoolSpec;
import dmabuf.memory.zone.AddressSpace;

/** Zones and DMA masks: where pools land in the physical address space. */
class PlacementTest {

    @Test
    void poolWithoutMaskLandsInZoneNormalAbove4GiB() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("any", MIB));
            assertEquals(AddressSpace.NORMAL_START, f.pool("any").physBase);
            assertEquals(AddressSpace.NORMAL_START + MIB - 1, p.highestAddress());
        }
    }

    @Test
    void poolWith32BitMaskLandsInDma32Below4GiB() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("low", MIB).withDmaMask(0xFFFF_FFFFL));
            long base = f.pool("low").physBase;
            assertEquals(AddressSpace.DMA32_START, base);
            assertTrue(Long.compareUnsigned(p.highestAddress(), 0xFFFF_FFFFL) <= 0);
        }
    }

    @Test
    void poolWith36BitMaskLandsInZoneNormalBelowItsMask() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.contiguous("mid", MIB).withDmaMask((1L << 36) - 1));
            assertTrue(f.pool("mid").physBase >= AddressSpace.NORMAL_START);
            assertTrue(p.highestAddress() <= (1L << 36) - 1);
        }
    }

    @Test
    void poolTooBigForDma32IsEnomemNamingMaskAndZone() {
        // 4 GiB cannot fit in [256 MiB, 4 GiB); the zone is checked before the (large enough) global limit
        try (MemoryFixture f = new MemoryFixture(MemoryConfig.DEFAULTS.withLimit(8L << 30))) {
            DmaBufException e = assertErrno(Errno.ENOMEM,
                    () -> f.gpu.createPool(PoolSpec.scattered("huge", 4L << 30).withDmaMask(0xFFFF_FFFFL)));
            assertTrue(e.getMessage().contains("0xffffffff"), e.getMessage());
            assertTrue(e.getMessage().contains("ZONE_DMA32"), e.getMessage());
            assertTrue(e.getMessage().contains("ZONE_NORMAL") && e.getMessage().contains("above the mask"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("pool 'huge'") && e.getMessage().contains("gpu.driver"),
                    e.getMessage());
            assertEquals(0, f.engine.stats().reserved, "nothing stays reserved");
        }
    }

    @Test
    void maskBelowEveryZoneIsEnomem() {
        try (MemoryFixture f = new MemoryFixture()) {
            DmaBufException e = assertErrno(Errno.ENOMEM,
                    () -> f.gpu.createPool(PoolSpec.scattered("isa", MIB).withDmaMask(0xFF_FFFFL)));
            assertTrue(e.getMessage().contains("0xffffff"), e.getMessage());
            assertTrue(e.getMessage().contains("No zone starts below"), e.getMessage());
        }
    }

    @Test
    void closedPoolsRangeIsReusedFirstFit() {
        try (MemoryFixture f = new MemoryFixture()) {
            PoolSpec low = PoolSpec.scattered("a", 2 * MIB).withDmaMask(0xFFFF_FFFFL);
            PagePool a = f.gpu.createPool(low);
            f.gpu.createPool(PoolSpec.scattered("b", MIB).withDmaMask(0xFFFF_FFFFL));
            assertEquals(AddressSpace.DMA32_START + 2 * MIB, f.pool("b").physBase);
            a.close();
            f.gpu.createPool(PoolSpec.scattered("c", MIB).withDmaMask(0xFFFF_FFFFL));
            assertEquals(AddressSpace.DMA32_START, f.pool("c").physBase, "first fit takes a's old range");
            f.gpu.createPool(PoolSpec.scattered("d", 2 * MIB).withDmaMask(0xFFFF_FFFFL));
            assertEquals(AddressSpace.DMA32_START + 3 * MIB, f.pool("d").physBase,
                    "the 1 MiB hole left by a is too small for d");
        }
    }

    @Test
    void addressSpaceCoalescesFreedRanges() {
        AddressSpace s = new AddressSpace();
        AddressSpace.Range a = s.place("a", MIB, -1L);
        AddressSpace.Range b = s.place("b", MIB, -1L);
        AddressSpace.Range c = s.place("c", MIB, -1L);
        assertEquals(1, s.freeRanges(s.normal()));
        s.free(a);
        s.free(c);
        assertEquals(2, s.freeRanges(s.normal()), "a's hole and the tail after b");
        s.free(b);
        assertEquals(1, s.freeRanges(s.normal()), "all three coalesce with the tail");
        assertEquals(AddressSpace.NORMAL_END - AddressSpace.NORMAL_START, s.freeBytes(s.normal()));
    }

    @Test
    void fullDma32FallsNowhereButNormalStillServesWideMasks() {
        AddressSpace s = new AddressSpace();
        long dma32 = AddressSpace.NORMAL_START - AddressSpace.DMA32_START;
        s.place("fill", dma32, 0xFFFF_FFFFL);
        assertEquals(0, s.freeBytes(s.dma32()));
        DmaBufException e = assertErrno(Errno.ENOMEM, () -> s.place("one more", MIB, 0xFFFF_FFFFL));
        assertTrue(e.getMessage().contains("largest: 0 bytes"), e.getMessage());
        assertEquals(AddressSpace.NORMAL_START, s.place("wide", MIB, -1L).start());
    }
}
