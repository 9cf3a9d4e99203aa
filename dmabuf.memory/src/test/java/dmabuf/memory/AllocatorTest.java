package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.MIB;
import static dmabuf.memory.MemoryFixture.PAGE;
import static dmabuf.memory.MemoryFixture.assertErrno;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PageRun;
import dmabuf.api.memory.PoolSpec;

/** Contiguous and scattered page allocation, fragmentation, zeroing. */
class AllocatorTest {

    @Test
    void contiguousAllocationIsOneRunFirstFit() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.contiguous("cma", 64 * PAGE));
            long base = f.pool("cma").physBase;
            PageAllocation a = p.allocate(10 * PAGE);
            PageAllocation b = p.allocate(5 * PAGE + 1);
            assertEquals(List.of(new PageRun(base, 10)), a.runs());
            assertEquals(List.of(new PageRun(base + 10 * PAGE, 6)), b.runs());
            assertEquals(6 * PAGE, b.size(), "rounded up to whole pages");
            assertTrue(a.isContiguous() && b.isContiguous());
            assertEquals(48 * PAGE, p.available());
        }
    }

    @Test
    void contiguousAllocationFailsOnFragmentationNamingIt() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.contiguous("cma", 16 * PAGE));
            List<PageAllocation> all = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                all.add(p.allocate(2 * PAGE));
            }
            for (int i = 0; i < 8; i += 2) {
                all.get(i).close(); // every other 2-page block: 8 free pages, no run longer than 2
            }
            assertEquals(8 * PAGE, p.available());
            DmaBufException e = assertErrno(Errno.ENOMEM, () -> p.allocate(3 * PAGE));
            assertTrue(e.getMessage().contains("pool 'cma' has 8 free pages but no run of 3 contiguous pages"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("largest free run: 2 pages") && e.getMessage().contains("fragmented"),
                    e.getMessage());
            assertEquals(8 * PAGE, f.engine.stats().live, "the refused allocation was not charged");
            assertEquals(2 * PAGE, p.allocate(2 * PAGE).size(), "a run that fits is still found");
        }
    }

    @Test
    void poolExhaustionIsEnomemNamingFreePages() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("small", 4 * PAGE));
            p.allocate(3 * PAGE);
            DmaBufException e = assertErrno(Errno.ENOMEM, () -> p.allocate(2 * PAGE));
            assertTrue(e.getMessage().contains("pool 'small' has 1 free pages"), e.getMessage());
            assertErrno(Errno.ENOMEM, () -> p.allocate(Long.MAX_VALUE - PAGE));
        }
    }

    @Test
    void badSizesAreEinval() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("p", 4 * PAGE));
            assertErrno(Errno.EINVAL, () -> p.allocate(0));
            assertErrno(Errno.EINVAL, () -> p.allocate(-PAGE));
            assertErrno(Errno.EINVAL, () -> p.allocate(Long.MAX_VALUE));
        }
    }

    @Test
    void scatteredAllocationWithSmallChunksIsSeveralNonAdjacentRunsFromTheTop() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("sys", 64 * PAGE).withMaxChunk(4 * PAGE));
            long base = f.pool("sys").physBase;
            PageAllocation a = p.allocate(10 * PAGE);
            // from the top down, in chunks of at most 4 pages: 60..63, 56..59, 54..55
            assertEquals(List.of(new PageRun(base + 60 * PAGE, 4), new PageRun(base + 56 * PAGE, 4),
                    new PageRun(base + 54 * PAGE, 2)), a.runs());
            assertFalse(a.isContiguous(), "descending runs are not contiguous in buffer order");
            for (int i = 1; i < a.runs().size(); i++) {
                assertNotEquals(a.runs().get(i - 1).end(), a.runs().get(i).physAddress());
            }
            assertEquals(10 * PAGE, a.size());
            PageAllocation one = p.allocate(3 * PAGE);
            assertEquals(List.of(new PageRun(base + 51 * PAGE, 3)), one.runs(), "a single chunk is one run");
            assertTrue(one.isContiguous());
        }
    }

    @Test
    void scatteredAllocationGathersFreeRunsAcrossHoles() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("sys", 16 * PAGE).withMaxChunk(16 * PAGE));
            long base = f.pool("sys").physBase;
            PageAllocation top = p.allocate(4 * PAGE); // 12..15
            PageAllocation mid = p.allocate(4 * PAGE); // 8..11
            p.allocate(4 * PAGE); // 4..7
            top.close();
            mid.close();
            p.allocate(6 * PAGE); // 10..15 in one run (one chunk); free now: 0..3, 8..9
            PageAllocation gathered = p.allocate(5 * PAGE);
            assertEquals(List.of(new PageRun(base + 8 * PAGE, 2), new PageRun(base + 1 * PAGE, 3)),
                    gathered.runs());
        }
    }

    @Test
    void allocatedMemoryIsZeroedEvenAfterReuse() {
        for (PoolSpec spec : List.of(PoolSpec.scattered("s", 16 * PAGE).withMaxChunk(2 * PAGE),
                PoolSpec.contiguous("c", 16 * PAGE))) {
            try (MemoryFixture f = new MemoryFixture()) {
                PagePool p = f.gpu.createPool(spec);
                PageAllocation dirty = p.allocate(16 * PAGE);
                for (int i = 0; i < 16; i++) {
                    dirty.page(i).fill((byte) 0x5A);
                }
                List<PageRun> runs = dirty.runs();
                dirty.close();
                PageAllocation again = p.allocate(16 * PAGE);
                assertEquals(runs.stream().mapToLong(PageRun::pages).sum(),
                        again.runs().stream().mapToLong(PageRun::pages).sum());
                for (int i = 0; i < 16; i++) {
                    MemorySegment page = again.page(i);
                    assertEquals(PAGE, page.byteSize());
                    for (long off = 0; off < PAGE; off += 8) {
                        assertEquals(0L, page.get(JAVA_LONG, off), spec.name() + " page " + i + " offset " + off);
                    }
                }
            }
        }
    }

    @Test
    void pageIndexIsChecked() {
        try (MemoryFixture f = new MemoryFixture()) {
            PageAllocation a = f.gpu.createPool(PoolSpec.scattered("p", 4 * PAGE)).allocate(2 * PAGE);
            assertErrno(Errno.EINVAL, () -> a.page(2));
            assertErrno(Errno.EINVAL, () -> a.page(-1));
            a.page(1).set(JAVA_BYTE, PAGE - 1, (byte) 7);
            a.close();
            a.close(); // idempotent
            assertErrno(Errno.EFAULT, () -> a.page(0));
        }
    }

    @Test
    void largePoolIsPreFaultedAndAllocatesInOneMibChunks() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("big", 16 * MIB));
            PageAllocation a = p.allocate(3 * MIB + PAGE);
            assertEquals(4, a.runs().size(), "3 chunks of 1 MiB and one page");
            assertEquals(1, a.runs().get(3).pages());
        }
    }
}
