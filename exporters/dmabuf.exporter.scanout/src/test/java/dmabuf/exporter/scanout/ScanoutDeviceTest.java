package dmabuf.exporter.scanout;

import static dmabuf.exporter.scanout.ScanoutFixture.MB;
import static dmabuf.exporter.scanout.ScanoutFixture.PAGE;
import static dmabuf.exporter.scanout.ScanoutFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PageRun;
import dmabuf.exporter.scanout.api.DumbBuffer;
import dmabuf.exporter.scanout.api.DumbBufferDevice;

/** The device's own rules and errnos: CREATE/MAP/DESTROY_DUMB, PRIME export flags and caching, memory, config. */
class ScanoutDeviceTest {
    /** A 1 MB pool: 256 pages. */
    private static final ScanoutSettings SMALL = new ScanoutSettings("card0", MB, 8192, 8192);

    private ScanoutFixture f = new ScanoutFixture();

    @AfterEach
    void close() {
        f.close();
        assertTrue(f.memoryLog.warnings.isEmpty(), () -> "memory engine: " + f.memoryLog.problems());
    }

    private void useSmallPool() {
        f.close();
        f = new ScanoutFixture(SMALL);
    }

    private PageAllocation storage(int handle) {
        return f.device.objectOf(handle).allocation();
    }

    @Test
    void handlesStartAtOneAndTheLowestFreeOneIsReused() {
        assertEquals(1, f.device.createDumb(64, 64, 32, 0).handle());
        assertEquals(2, f.device.createDumb(64, 64, 32, 0).handle());
        assertEquals(3, f.device.createDumb(64, 64, 32, 0).handle());
        f.device.destroyDumb(2);
        assertEquals(2, f.device.createDumb(64, 64, 32, 0).handle(), "the lowest free handle, as idr_alloc");
        assertEquals(4, f.device.createDumb(64, 64, 32, 0).handle());
        assertEquals(4, f.device.handleCount());
    }

    @Test
    void createReturnsTheKernelsPitchAndSizeInOneZeroedContiguousRunBelow4GiB() {
        long before = f.device.pool().available();
        DumbBuffer b = f.device.createDumb(1366, 768, 24, 0);
        assertEquals(4098, b.pitch());
        assertEquals(769 * PAGE, b.size());
        assertEquals(1366, b.width());
        assertEquals(768, b.height());
        assertEquals(24, b.bpp());
        assertEquals(before - b.size(), f.device.pool().available(), "exactly the page-aligned size is allocated");

        PageAllocation a = storage(b.handle());
        assertEquals(b.size(), a.size());
        assertTrue(a.isContiguous());
        List<PageRun> runs = a.runs();
        assertEquals(1, runs.size(), "one PageRun");
        assertTrue(runs.get(0).end() - 1 <= 0xFFFF_FFFFL, "below the 32-bit mask: " + runs);
        assertEquals(b.size(), a.contiguousView().byteSize());
        for (long off = 0; off < b.size(); off += 997) {
            assertEquals(0, a.contiguousView().get(ValueLayout.JAVA_BYTE, off), "zeroed at " + off);
        }
    }

    @Test
    void createRefusesWhatTheKernelRefusesAndAllocatesNothing() {
        long before = f.device.pool().available();
        assertTrue(assertErrno(Errno.EINVAL, () -> f.device.createDumb(64, 64, 32, 1)).getMessage()
                .contains("flags"));
        assertErrno(Errno.EINVAL, () -> f.device.createDumb(0, 64, 32, 0));
        assertErrno(Errno.EINVAL, () -> f.device.createDumb(64, 0, 32, 0));
        assertErrno(Errno.EINVAL, () -> f.device.createDumb(64, 64, 0, 0));
        assertTrue(assertErrno(Errno.EINVAL, () -> f.device.createDumb(0xFFFF_FFFF, 1, 32, 0)).getMessage()
                .contains("overflow"));
        assertTrue(assertErrno(Errno.EINVAL, () -> f.device.createDumb(0x1_0000, 0x4000, 32, 0)).getMessage()
                .contains("overflow"));
        assertErrno(Errno.EINVAL, () -> f.device.createDumb(1, 1, 0xFFFF_FFFF, 0));
        assertEquals(before, f.device.pool().available());
        assertEquals(0, f.device.handleCount());
        assertEquals(1, f.device.createDumb(1, 1, 1, 0).handle(), "no handle was used by the refused requests");
    }

    @Test
    void sizesAboveTheConfiguredMaximumAreEinval() {
        f.close();
        f = new ScanoutFixture(new ScanoutSettings("card0", 64 * MB, 1920, 1080));
        f.device.createDumb(1920, 1080, 32, 0);
        assertTrue(assertErrno(Errno.EINVAL, () -> f.device.createDumb(1921, 1080, 32, 0)).getMessage()
                .contains("at most 1920x1080"));
        assertErrno(Errno.EINVAL, () -> f.device.createDumb(1920, 1081, 32, 0));
        assertErrno(Errno.EINVAL, () -> f.device.createDumb(8192, 1, 8, 0));
    }

    @Test
    void unknownHandlesAreEnoent() {
        for (int h : new int[] {0, 1, 99, -1}) {
            assertErrno(Errno.ENOENT, () -> f.device.mapDumbOffset(h));
            assertErrno(Errno.ENOENT, () -> f.device.destroyDumb(h));
            assertErrno(Errno.ENOENT, () -> f.device.exportDumb(h, 0));
        }
        int h = f.device.createDumb(64, 64, 32, 0).handle();
        f.device.destroyDumb(h);
        assertTrue(assertErrno(Errno.ENOENT, () -> f.device.destroyDumb(h)).getMessage()
                .contains("no dumb buffer with handle " + h));
        assertErrno(Errno.ENOENT, () -> f.device.mapDumbOffset(h));
        assertErrno(Errno.ENOENT, () -> f.device.exportDumb(h, DumbBufferDevice.DRM_RDWR));
    }

    @Test
    void exportFlagsOtherThanCloexecAndRdwrAreEinvalCheckedBeforeTheHandle() {
        int h = f.device.createDumb(64, 64, 32, 0).handle();
        for (int bad : new int[] {DmaBufUapi.O_WRONLY, 0x4000, 0x80, DumbBufferDevice.DRM_RDWR | 0x100, -1}) {
            assertErrno(Errno.EINVAL, () -> f.device.exportDumb(h, bad));
        }
        assertErrno(Errno.EINVAL, () -> f.device.exportDumb(99, DmaBufUapi.O_WRONLY));
        assertNull(f.device.exportOf(h), "nothing was exported");
        for (int good : new int[] {0, DumbBufferDevice.DRM_CLOEXEC, DumbBufferDevice.DRM_RDWR,
            DumbBufferDevice.DRM_CLOEXEC | DumbBufferDevice.DRM_RDWR}) {
            f.device.exportDumb(h, good);
        }
    }

    @Test
    void mapDumbOffsetIsAStablePageAlignedFakeOffsetAbove4GiBPerBuffer() {
        DumbBuffer a = f.device.createDumb(1366, 768, 24, 0);
        DumbBuffer b = f.device.createDumb(1, 1, 8, 0);
        long oa = f.device.mapDumbOffset(a.handle());
        long ob = f.device.mapDumbOffset(b.handle());
        assertEquals(1L << 32, oa, "DRM_FILE_PAGE_OFFSET_START on 64-bit: the first offset");
        assertEquals(0, ob % PAGE);
        assertTrue(ob >= oa + a.size() || oa >= ob + b.size(), "the ranges do not overlap");
        assertEquals(oa, f.device.mapDumbOffset(a.handle()), "stable");
        f.device.destroyDumb(a.handle());
        DumbBuffer c = f.device.createDumb(1, 1, 8, 0);
        assertEquals(a.handle(), c.handle(), "the handle is reused");
        long oc = f.device.mapDumbOffset(c.handle());
        assertFalse(oc == oa || oc == ob, "a new buffer gets its own offset");
    }

    @Test
    void exportIsCachedPerHandle() {
        DumbBuffer a = f.device.createDumb(640, 480, 32, 0);
        DumbBuffer b = f.device.createDumb(640, 480, 32, 0);
        DmaBuf first = f.device.exportDumb(a.handle(), DumbBufferDevice.DRM_RDWR);
        assertSame(first, f.device.exportDumb(a.handle(), DumbBufferDevice.DRM_RDWR));
        assertSame(first, f.device.exportDumb(a.handle(), DumbBufferDevice.DRM_CLOEXEC), "whatever the flags");
        DmaBuf other = f.device.exportDumb(b.handle(), 0);
        assertNotSame(first, other);
        assertEquals(a.size(), first.size());
        assertEquals("card0", first.exporterName());
        assertEquals("dumb-1 640x480", first.name().orElseThrow());
        assertEquals(2, f.device.liveObjects());
        assertEquals(2, f.core.buffers().all().size(), "one dma-buf per handle, not per export");
    }

    @Test
    void theDmaBufIsReadOnlyUnlessExportedWithDrmRdwr() {
        int ro = f.device.createDumb(64, 64, 32, 0).handle();
        int rw = f.device.createDumb(64, 64, 32, 0).handle();
        DmaBuf r = f.imp.get(f.device.exportDumb(ro, DumbBufferDevice.DRM_CLOEXEC));
        DmaBuf w = f.imp.get(f.device.exportDumb(rw, DumbBufferDevice.DRM_CLOEXEC | DumbBufferDevice.DRM_RDWR));
        assertErrno(Errno.EACCES, () -> f.imp.fd(r, DmaBufUapi.O_RDWR));
        int rfd = f.imp.fd(r, DmaBufUapi.O_RDONLY | DmaBufUapi.O_CLOEXEC);
        assertErrno(Errno.EACCES, () -> f.imp.mmap(rfd, 0, PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE));
        f.imp.close(rfd);
        int wfd = f.imp.fd(w, DmaBufUapi.O_RDWR);
        f.imp.mmap(wfd, 0, PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE).close();
        f.imp.close(wfd);
    }

    @Test
    void exhaustingThePoolIsEnomemAndDestroyGivesTheMemoryBack() {
        useSmallPool();
        DumbBuffer all = f.device.createDumb(512, 512, 32, 0);
        assertEquals(MB, all.size());
        DmaBufException e = assertErrno(Errno.ENOMEM, () -> f.device.createDumb(1, 1, 8, 0));
        assertTrue(e.getMessage().contains("card0-scanout"), e.getMessage());
        assertErrno(Errno.ENOMEM, () -> f.device.createDumb(1024, 1024, 32, 0));
        f.device.destroyDumb(all.handle());
        assertTrue(f.poolWhole());
        assertEquals(1, f.device.createDumb(512, 512, 32, 0).handle());
        assertErrno(Errno.ENOMEM, () -> f.device.createDumb(1024, 1024, 32, 0)); // bigger than the pool
    }

    @Test
    void aPoolWithEnoughFreePagesButNoContiguousRunIsEnomemNamingFragmentation() {
        useSmallPool();
        int[] quarter = new int[4];
        for (int i = 0; i < 4; i++) {
            quarter[i] = f.device.createDumb(256, 256, 32, 0).handle(); // 64 pages each
        }
        f.device.destroyDumb(quarter[0]);
        f.device.destroyDumb(quarter[2]);
        assertEquals(MB / 2, f.device.pool().available(), "half the pool is free...");
        DmaBufException e = assertErrno(Errno.ENOMEM, () -> f.device.createDumb(256, 512, 32, 0));
        assertTrue(e.getMessage().contains("fragmented"), "...but not in one run: " + e.getMessage());
        assertEquals(2, f.device.handleCount(), "the refused request took no handle");
        f.device.destroyDumb(quarter[1]);
        DumbBuffer joined = f.device.createDumb(256, 512, 32, 0);
        assertEquals(MB / 2, joined.size());
        assertEquals(1, storage(joined.handle()).runs().size());
    }

    @Test
    void destroyingEveryBufferLeavesThePoolWhole() {
        List<Integer> handles = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            handles.add(f.device.createDumb(100 * i, 37 * i, 8 * (i % 4 + 1), 0).handle());
        }
        for (int i = 0; i < handles.size(); i += 3) {
            f.device.exportDumb(handles.get(i), DumbBufferDevice.DRM_RDWR);
            f.device.mapDumbOffset(handles.get(i));
        }
        assertFalse(f.poolWhole());
        for (int h : handles) {
            f.device.destroyDumb(h);
        }
        assertTrue(f.poolWhole(), () -> "pool: " + f.poolStats());
        assertEquals(0, f.device.liveObjects());
        assertEquals(0, f.core.buffers().all().size(), "every dma-buf was released with its handle");
        assertEquals(4, f.device.counters().get(OpsCounters.Op.RELEASE));
    }

    @Test
    void reconfigurationAppliesLimitsAtOnceAndMemoryOnlyWhileNoBufferLives() {
        ScanoutSettings wider = new ScanoutSettings("card0", 64 * MB, 16384, 8192);
        assertEquals(wider, f.device.reconfigure(wider));
        f.device.createDumb(16384, 1, 32, 0);
        assertErrno(Errno.EINVAL, () -> f.device.createDumb(16385, 1, 32, 0));

        // A buffer lives: the pool keeps its size, the change is refused and logged.
        ScanoutSettings bigger = new ScanoutSettings("card0", 128 * MB, 16384, 8192);
        assertEquals(64 * MB, f.device.reconfigure(bigger).memoryBytes());
        assertEquals(64 * MB, f.device.pool().capacity());
        assertTrue(f.deviceLog.warnings.stream().anyMatch(w -> w.contains("memory.mb stays 64 instead of 128")),
                f.deviceLog.problems());

        // No buffer: the pool is recreated with the new size.
        f.device.destroyDumb(1);
        assertEquals(128 * MB, f.device.reconfigure(bigger).memoryBytes());
        assertEquals(128 * MB, f.device.pool().capacity());
        assertTrue(f.poolWhole());
        assertEquals(1, f.device.createDumb(16384, 1, 32, 0).handle());

        // The name never changes while the device runs.
        ScanoutSettings renamed = new ScanoutSettings("card1", 128 * MB, 16384, 8192);
        assertEquals("card0", f.device.reconfigure(renamed).name());
        assertEquals("card0", f.device.name());
        assertTrue(f.deviceLog.warnings.stream().anyMatch(w -> w.contains("cannot change to 'card1'")));
        assertEquals("card0", f.device.exportDumb(1, 0).exporterName(), "exports still work under the old name");
    }

    @Test
    void aStoppedDeviceRefusesEverythingWithEnodevAndHasClosedItsPool() {
        int h = f.device.createDumb(64, 64, 32, 0).handle();
        f.device.shutdown();
        assertNull(f.poolStats(), "the pool went back to the platform");
        assertNull(f.device.pool());
        assertErrno(Errno.ENODEV, () -> f.device.createDumb(64, 64, 32, 0));
        assertErrno(Errno.ENODEV, () -> f.device.mapDumbOffset(h));
        assertErrno(Errno.ENODEV, () -> f.device.destroyDumb(h));
        assertErrno(Errno.ENODEV, () -> f.device.exportDumb(h, 0));
        f.device.shutdown(); // idempotent
        assertTrue(f.deviceLog.errors.isEmpty(), f.deviceLog.problems());
    }
}
