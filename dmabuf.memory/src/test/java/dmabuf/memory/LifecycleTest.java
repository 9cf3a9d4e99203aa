package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.LINUX;
import static dmabuf.memory.MemoryFixture.MIB;
import static dmabuf.memory.MemoryFixture.PAGE;
import static dmabuf.memory.MemoryFixture.assertErrno;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PoolSpec;
import dmabuf.memory.zone.AddressSpace;

/** Pools closing with allocations open, bundles going away, shutdown, and no leaked fds or mappings. */
class LifecycleTest {

    @Test
    void poolCloseFreesOpenAllocationsAndReportsThem() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("gpu0", MIB));
            PageAllocation a = p.allocate(2 * PAGE);
            PageAllocation b = p.allocate(3 * PAGE, 20);
            p.allocate(PAGE).close();
            MemorySegment page = a.page(0);
            p.close();

            List<String> w = f.log.warningsContaining("pool 'gpu0'");
            assertEquals(1, w.size(), f.log.warnings::toString);
            String m = w.get(0);
            assertTrue(m.contains("2 allocations still open") && m.contains("20 KiB"), m);
            assertTrue(m.contains("allocation #1 (8 KiB)") && m.contains("charged to bundle gpu.driver [10]"), m);
            assertTrue(m.contains("allocation #2 (12 KiB)") && m.contains("charged to bundle camera.app [20]"), m);
            assertTrue(m.contains("owned by bundle gpu.driver [10]"), m);

            assertErrno(Errno.EFAULT, () -> a.page(0));
            assertThrows(IllegalStateException.class, () -> page.get(JAVA_LONG, 0), "the pool's views are dead");
            assertTrue(b.unusableBy(Device.of("d")).contains("freed"));
            a.close(); // idempotent after the pool closed it
            b.close();
            assertErrno(Errno.ENODEV, () -> p.allocate(PAGE));
            p.close(); // idempotent
            assertEquals(0, p.available());
            assertEquals(0, f.engine.stats().live);
            assertEquals(0, f.engine.stats().reserved);
            assertEquals(0, f.engine.stats().pools.length);
            assertEquals(1, f.engine.addressSpace().freeRanges(f.engine.addressSpace().normal()),
                    "the range went back");
            assertEquals(1, f.log.warnings.size(), "reported once");
        }
    }

    @Test
    void cleanPoolCloseReportsNothing() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool p = f.gpu.createPool(PoolSpec.contiguous("c", MIB));
            p.allocate(PAGE).close();
            p.close();
            assertEquals(List.of(), f.log.warnings);
        }
    }

    @Test
    void bundleGoingAwayClosesItsPoolsEachReportedOnce() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool g1 = f.gpu.createPool(PoolSpec.scattered("g1", MIB));
            f.gpu.createPool(PoolSpec.contiguous("g2", MIB).withDmaMask(Device.DMA_MASK_32));
            PagePool closedByOwner = f.gpu.createPool(PoolSpec.scattered("g3", MIB));
            PagePool camPool = f.cam.createPool(PoolSpec.scattered("c1", MIB));
            g1.allocate(4 * PAGE);
            PageAllocation camOwnInGpuPool = g1.allocate(PAGE, 20);
            closedByOwner.close();

            f.engine.closeBundle(f.gpu);

            List<String> w = f.log.warnings;
            assertEquals(2, w.size(), w::toString);
            assertEquals(1, f.log.warningsContaining("'g1'").size());
            assertEquals(1, f.log.warningsContaining("'g2'").size());
            String g1Report = f.log.warningsContaining("'g1'").get(0);
            assertTrue(g1Report.startsWith("bundle gpu.driver [10] stopped using the memory service but left pool"),
                    g1Report);
            assertTrue(g1Report.contains("2 allocations still open"), g1Report);
            assertTrue(camOwnInGpuPool.unusableBy(Device.of("d")).contains("freed"));
            assertEquals(0, f.bundle(20).live, "the camera's charge in the GPU's pool went with the pool");
            assertEquals(MIB, f.engine.stats().reserved, "only the camera's pool is left");
            assertEquals(PAGE, camPool.allocate(PAGE).size());
            assertErrno(Errno.ENODEV, () -> f.gpu.createPool(PoolSpec.scattered("late", MIB)));
            f.engine.closeBundle(f.gpu); // idempotent, no more reports
            assertEquals(2, f.log.warnings.size());
        }
    }

    @Test
    void shutdownClosesEverythingAndRefusesNewPools() {
        MemoryFixture f = new MemoryFixture();
        PagePool p = f.cam.createPool(PoolSpec.scattered("c", MIB));
        f.engine.shutdown();
        assertEquals(1, f.log.warningsContaining("the memory service is stopping").size());
        assertErrno(Errno.ENODEV, () -> p.allocate(PAGE));
        assertErrno(Errno.ENODEV, () -> f.engine.openBundle(40, "late.bundle"));
        assertEquals(0, f.engine.stats().reserved);
    }

    @Test
    void manyCreateCloseCyclesLeakNoFdsOrMappings() throws IOException {
        assumeTrue(LINUX && Files.isDirectory(Path.of("/proc/self/fd")),
                "counts /proc/self/fd and /proc/self/maps, which only Linux has, and memfd pools");
        try (MemoryFixture f = new MemoryFixture()) {
            cycle(f, -1); // warm up: classes, downcall stubs, arenas
            long fds = countFds();
            long memfdFds = countFds("memfd:dmabuf:");
            long maps = countMaps(null);
            long memfdMaps = countMaps("memfd:dmabuf:");
            int cycles = 200;
            for (int i = 0; i < cycles; i++) {
                cycle(f, i);
            }
            assertEquals(memfdFds, countFds("memfd:dmabuf:"), "memfd fds of closed pools");
            assertEquals(memfdMaps, countMaps("memfd:dmabuf:"), "memfd mappings (linear maps and aliases)");
            // other threads (JIT, GC) may map or open a little meanwhile; a leak would be >= one per cycle
            long fdDelta = countFds() - fds;
            long mapDelta = countMaps(null) - maps;
            assertTrue(fdDelta < 10, "fds grew by " + fdDelta + " over " + cycles + " cycles");
            assertTrue(mapDelta < 20, "/proc/self/maps grew by " + mapDelta + " lines over " + cycles + " cycles");
            assertEquals(0, f.engine.stats().reserved);
            assertEquals(1, f.engine.addressSpace().freeRanges(f.engine.addressSpace().normal()));
            assertEquals(AddressSpace.NORMAL_END - AddressSpace.NORMAL_START,
                    f.engine.addressSpace().freeBytes(f.engine.addressSpace().normal()));
        }
    }

    private static void cycle(MemoryFixture f, int i) throws IOException {
        PagePool p = f.gpu.createPool(PoolSpec.scattered("cycle-" + i, 64 * PAGE).withMaxChunk(2 * PAGE));
        PageAllocation a = p.allocate(8 * PAGE);
        a.contiguousView().set(JAVA_LONG, 0, i);
        PageAllocation b = p.allocate(4 * PAGE);
        assertNotNull(b.contiguousView()); // left open: the pool's close must unmap its alias
        if (i == 0) { // the counts below are not vacuous: the pool is a memfd, mapped once plus once per run
            assertEquals(1, countFds("memfd:dmabuf:cycle-0 "));
            assertEquals(1 + 4 + 2, countMaps("memfd:dmabuf:cycle-0 "), "linear map, a's 4 runs, b's 2 runs");
        }
        a.close();
        PagePool c = f.cam.createPool(PoolSpec.contiguous("cycle-c-" + i, 16 * PAGE));
        c.allocate(PAGE);
        p.close();
        f.engine.closeBundle(f.engine.openBundle(50, "transient")); // a facade coming and going
        c.close();
    }

    private static long countFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static long countFds(String target) throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().contains(target);
                } catch (IOException gone) {
                    return false; // the fd of the listing itself, closed meanwhile
                }
            }).count();
        }
    }

    private static long countMaps(String containing) throws IOException {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(l -> containing == null || l.contains(containing)).count();
        }
    }
}
