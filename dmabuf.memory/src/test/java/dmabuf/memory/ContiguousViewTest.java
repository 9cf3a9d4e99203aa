package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.LINUX;
import static dmabuf.memory.MemoryFixture.PAGE;
import static dmabuf.memory.MemoryFixture.assertErrno;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PageRun;
import dmabuf.api.memory.PoolSpec;

/** vmap: a contiguous CPU view of an allocation, an alias of scattered pages in buffer order where possible. */
class ContiguousViewTest {
    private static final String NEEDS_MEMFD = "aliasing scattered pages needs memfd_create and mmap(MAP_FIXED) "
            + "of the pool's memfd, i.e. Linux on x86-64/arm64/riscv64; here pools are arena memory";

    @Test
    void scatteredAllocationIsAliasedInBufferOrder() {
        assumeTrue(LINUX, NEEDS_MEMFD);
        try (MemoryFixture f = new MemoryFixture()) {
            PageAllocation a = f.gpu.createPool(PoolSpec.scattered("sys", 64 * PAGE).withMaxChunk(3 * PAGE))
                    .allocate(8 * PAGE);
            assertEquals(3, a.runs().size());
            assertFalse(a.isContiguous());
            MemorySegment v = a.contiguousView();
            assertEquals(8 * PAGE, v.byteSize());
            assertSame(v, a.contiguousView(), "the same view until close");

            // write through the view at offset X = inside buffer page 6 (run 2 holds pages 6..7)
            long x = 6 * PAGE + 24;
            v.set(JAVA_LONG, x, 0x1122_3344_5566_7788L);
            assertEquals(0x1122_3344_5566_7788L, a.page(6).get(JAVA_LONG, 24));
            PageRun run2 = a.runs().get(2);
            assertEquals(0x1122_3344_5566_7788L, f.gpu.resolve(run2.physAddress() + 24, 8).get(JAVA_LONG, 0));

            // and the other way: every page written via page() shows at its buffer offset in the view
            for (int i = 0; i < 8; i++) {
                a.page(i).set(JAVA_LONG, 8, 1000L + i);
            }
            for (int i = 0; i < 8; i++) {
                assertEquals(1000L + i, v.get(JAVA_LONG, i * PAGE + 8), "buffer page " + i);
            }
            assertTrue(v.address() != a.page(0).address(), "an alias, not the linear map");

            a.close();
            assertThrows(IllegalStateException.class, () -> v.get(JAVA_LONG, 0), "the alias is unmapped at close");
            assertErrno(Errno.EFAULT, a::contiguousView);
        }
    }

    @Test
    void contiguousAllocationViewIsTheLinearMapItself() {
        try (MemoryFixture f = new MemoryFixture()) {
            PageAllocation a = f.gpu.createPool(PoolSpec.contiguous("cma", 16 * PAGE)).allocate(4 * PAGE);
            MemorySegment v = a.contiguousView();
            assertEquals(4 * PAGE, v.byteSize());
            assertEquals(a.page(0).address(), v.address());
            v.set(JAVA_LONG, 3 * PAGE, 42L);
            assertEquals(42L, a.page(3).get(JAVA_LONG, 0));
        }
    }

    @Test
    void withoutMemfdScatteredPagesAreEopnotsuppButOneRunWorks() {
        try (MemoryFixture f = new MemoryFixture(MemoryConfig.DEFAULTS, false)) {
            assertFalse(f.engine.nativeBacking());
            var pool = f.gpu.createPool(PoolSpec.scattered("sys", 64 * PAGE).withMaxChunk(2 * PAGE));
            PageAllocation scattered = pool.allocate(4 * PAGE);
            DmaBufException e = assertErrno(Errno.EOPNOTSUPP, scattered::contiguousView);
            assertTrue(e.getMessage().contains("'sys'") && e.getMessage().contains("page()"), e.getMessage());
            PageAllocation single = pool.allocate(2 * PAGE);
            single.contiguousView().set(JAVA_LONG, PAGE, 9L);
            assertEquals(9L, single.page(1).get(JAVA_LONG, 0));
            // everything else works on arena memory too
            scattered.page(3).set(JAVA_LONG, 0, 5L);
            assertEquals(5L, f.gpu.resolve(scattered.runs().get(1).physAddress() + PAGE, 8).get(JAVA_LONG, 0));
        }
    }

    @Test
    void poolCloseUnmapsAliasesOfLeftoverAllocations() {
        assumeTrue(LINUX, NEEDS_MEMFD);
        try (MemoryFixture f = new MemoryFixture()) {
            var pool = f.gpu.createPool(PoolSpec.scattered("sys", 64 * PAGE).withMaxChunk(PAGE));
            PageAllocation a = pool.allocate(4 * PAGE);
            MemorySegment v = a.contiguousView();
            v.set(JAVA_LONG, 0, 1L);
            pool.close();
            assertThrows(IllegalStateException.class, () -> v.get(JAVA_LONG, 0));
        }
    }
}
