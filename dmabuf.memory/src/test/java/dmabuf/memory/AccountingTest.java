package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.MIB;
import static dmabuf.memory.MemoryFixture.PAGE;
import static dmabuf.memory.MemoryFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PoolSpec;

/** The global limit, per-bundle quotas, live and peak bytes. */
class AccountingTest {

    @Test
    void globalLimitIsEnomemNamingLimitReservedPoolsAndBundles() {
        try (MemoryFixture f = new MemoryFixture(MemoryConfig.DEFAULTS.withLimit(4 * MIB))) {
            f.gpu.createPool(PoolSpec.scattered("gpu0-vram", 2 * MIB));
            f.cam.createPool(PoolSpec.contiguous("cam-cma", MIB));
            DmaBufException e = assertErrno(Errno.ENOMEM,
                    () -> f.cam.createPool(PoolSpec.scattered("cam-more", 2 * MIB)));
            String m = e.getMessage();
            assertTrue(m.contains("pool 'cam-more'") && m.contains("camera.app [20]") && m.contains("needs 2 MiB"),
                    m);
            assertTrue(m.contains("global limit is 4 MiB") && m.contains("3 MiB are reserved"), m);
            assertTrue(m.contains("'gpu0-vram' (2 MiB, bundle gpu.driver [10])"), m);
            assertTrue(m.contains("'cam-cma' (1 MiB, bundle camera.app [20])"), m);
            assertTrue(m.contains("'limit.mb'") && m.contains("'dmabuf.memory'"), m);
            // exactly up to the limit is fine, and the failed pool left nothing behind
            f.cam.createPool(PoolSpec.scattered("cam-more", MIB));
            assertEquals(4 * MIB, f.engine.stats().reserved);
        }
    }

    @Test
    void duplicatePoolNameIsEinvalNamingTheOwner() {
        try (MemoryFixture f = new MemoryFixture()) {
            f.gpu.createPool(PoolSpec.scattered("shared-name", MIB));
            DmaBufException e = assertErrno(Errno.EINVAL,
                    () -> f.cam.createPool(PoolSpec.contiguous("shared-name", MIB)));
            assertTrue(e.getMessage().contains("gpu.driver [10]"), e.getMessage());
        }
    }

    @Test
    void quotaIsEnomemNamingBundleLiveRequestQuotaAndKey() {
        MemoryConfig c = MemoryConfig.DEFAULTS.withDefaultQuota(64 * 1024);
        try (MemoryFixture f = new MemoryFixture(c)) {
            PagePool pool = f.cam.createPool(PoolSpec.scattered("cam", MIB));
            PageAllocation a = pool.allocate(60 * 1024);
            DmaBufException e = assertErrno(Errno.ENOMEM, () -> pool.allocate(8 * 1024));
            String m = e.getMessage();
            assertTrue(m.contains("bundle camera.app [20]"), m);
            assertTrue(m.contains("60 KiB live") && m.contains("allocating 8 KiB") && m.contains("quota is 64 KiB"),
                    m);
            assertTrue(m.contains("'quotas' entry 'camera.app=<MB>'") && m.contains("'quota.mb'"), m);
            assertEquals(60 * 1024, pool.capacity() - pool.available(), "the refused allocation took no pages");
            pool.allocate(4 * 1024); // exactly up to the quota
            a.close();
            pool.allocate(32 * 1024); // freed bytes come back to the quota
        }
    }

    @Test
    void perBundleQuotaOverridesTheDefault() {
        MemoryConfig c = MemoryConfig.DEFAULTS.withDefaultQuota(8 * PAGE).withQuota("gpu.driver", 0);
        try (MemoryFixture f = new MemoryFixture(c)) {
            f.gpu.createPool(PoolSpec.scattered("gpu", MIB)).allocate(MIB); // no quota for the GPU driver
            PagePool cam = f.cam.createPool(PoolSpec.scattered("cam", MIB));
            assertErrno(Errno.ENOMEM, () -> cam.allocate(9 * PAGE));
            assertEquals(0, f.bundle(10).quota);
            assertEquals(8 * PAGE, f.bundle(20).quota);
        }
    }

    @Test
    void chargeBundleIdChargesAnotherBundlesQuota() {
        MemoryConfig c = MemoryConfig.DEFAULTS.withQuota("display.app", 4 * PAGE);
        try (MemoryFixture f = new MemoryFixture(c)) {
            // a heap owned by the GPU driver allocating for the display app (bundle 30), which never got the service
            PagePool heap = f.gpu.createPool(PoolSpec.scattered("system-heap", MIB));
            PageAllocation forDisplay = heap.allocate(3 * PAGE, 30);
            DmaBufException e = assertErrno(Errno.ENOMEM, () -> heap.allocate(2 * PAGE, 30));
            assertTrue(e.getMessage().contains("bundle display.app [30]"), e.getMessage());
            assertEquals(3 * PAGE, f.bundle(30).live);
            assertEquals(0, f.bundle(10).live, "the pool's owner is not charged");
            assertEquals(MIB, f.bundle(10).reserved, "but it reserved the pool");
            forDisplay.close();
            assertNull(f.bundle(30), "a bundle with nothing charged and no facade leaves the books");
            assertErrno(Errno.EINVAL, () -> heap.allocate(PAGE, 99)); // no such bundle
        }
    }

    @Test
    void statsShowLiveAndPeakPerPoolPerBundleAndGlobally() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool g = f.gpu.createPool(PoolSpec.scattered("g", MIB));
            PagePool k = f.cam.createPool(PoolSpec.contiguous("k", MIB));
            PageAllocation g1 = g.allocate(5 * PAGE);
            PageAllocation g2 = g.allocate(3 * PAGE);
            PageAllocation k1 = k.allocate(1); // rounded to a page
            PageAllocation gForCam = g.allocate(2 * PAGE, 20);
            g1.close();

            MemoryStatsDTO s = f.engine.stats();
            assertEquals(MemoryConfig.DEFAULTS.limitBytes(), s.limit);
            assertEquals(2 * MIB, s.reserved);
            assertEquals(6 * PAGE, s.live);
            assertEquals(11 * PAGE, s.peak);

            MemoryStatsDTO.PoolStatsDTO ps = f.pool("g");
            assertEquals(10, ps.bundleId);
            assertEquals("SCATTERED", ps.placement);
            assertEquals(MIB, ps.capacity);
            assertEquals(5 * PAGE, ps.live);
            assertEquals(10 * PAGE, ps.peak);
            assertEquals(2, ps.allocations);
            assertEquals(PAGE, f.pool("k").live);
            assertEquals("CONTIGUOUS", f.pool("k").placement);

            MemoryStatsDTO.BundleStatsDTO gb = f.bundle(10);
            assertEquals("gpu.driver", gb.symbolicName);
            assertEquals(MIB, gb.reserved);
            assertEquals(3 * PAGE, gb.live);
            assertEquals(8 * PAGE, gb.peak);
            MemoryStatsDTO.BundleStatsDTO cb = f.bundle(20);
            assertEquals(3 * PAGE, cb.live, "its own page in k plus the two the GPU driver charged to it");
            assertEquals(3 * PAGE, cb.peak);

            g2.close();
            k1.close();
            gForCam.close();
            s = f.engine.stats();
            assertEquals(0, s.live);
            assertEquals(11 * PAGE, s.peak, "peaks stay");
            assertEquals(0, f.pool("g").allocations);
        }
    }

    @Test
    void modifiedLimitsApplyToTheNextPoolOrAllocationOnly() {
        try (MemoryFixture f = new MemoryFixture()) {
            PagePool g = f.gpu.createPool(PoolSpec.scattered("g", 2 * MIB));
            PageAllocation a = g.allocate(16 * PAGE);
            f.engine.configure(MemoryConfig.DEFAULTS.withLimit(MIB).withDefaultQuota(8 * PAGE));
            assertTrue(f.log.infos.stream().anyMatch(m -> m.contains("above the new limit")), f.log.infos::toString);
            assertTrue(f.log.infos.stream().anyMatch(m -> m.contains("gpu.driver") && m.contains("new quota")),
                    f.log.infos::toString);
            assertEquals(16 * PAGE, a.size(), "the allocation over the new quota stays");
            a.page(15).set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1);
            assertErrno(Errno.ENOMEM, () -> g.allocate(PAGE));
            assertErrno(Errno.ENOMEM, () -> f.cam.createPool(PoolSpec.scattered("c", PAGE)));
            a.close();
            g.allocate(8 * PAGE);
        }
    }
}
