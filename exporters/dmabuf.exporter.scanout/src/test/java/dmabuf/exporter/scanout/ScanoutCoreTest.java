package dmabuf.exporter.scanout;

import static dmabuf.exporter.scanout.ScanoutFixture.PAGE;
import static dmabuf.exporter.scanout.ScanoutFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.exporter.scanout.OpsCounters.Op;
import dmabuf.exporter.scanout.api.DumbBuffer;
import dmabuf.exporter.scanout.api.DumbBufferDevice;
import dmabuf.testing.NoLeaks;

/**
 * The device against a real core and memory engine: the display bundle imports what the scanout device exports,
 * attaches its scanout engine, maps it and "does DMA" by resolving the table through the memory engine, and sees the
 * very bytes that were rendered through the CPU views (zero copy).
 */
class ScanoutCoreTest {
    /** A display controller without an IOMMU: 32-bit, one contiguous segment, not cache-coherent. */
    private static final Device CRTC = new Device("crtc0", Device.DMA_MASK_32, Long.MAX_VALUE, 1, true, false);
    private static final ValueLayout.OfInt PIXEL = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ScanoutFixture f = new ScanoutFixture();

    /** The display bundle puts whatever it took: no leak report, no buffer dropped without put. */
    @RegisterExtension
    final NoLeaks noLeaks = NoLeaks.of(() -> f.core.snapshots().runtimeDTO());

    @AfterEach
    void close() {
        f.close();
        assertTrue(f.memoryLog.warnings.isEmpty(), () -> "memory engine: " + f.memoryLog.problems());
        assertTrue(f.deviceLog.errors.isEmpty(), () -> "device: " + f.deviceLog.problems());
    }

    private static int pixel(long x, long y) {
        return (int) (0xFF00_0000L | (x * 7 & 0xFF) << 16 | (y * 13 & 0xFF) << 8 | ((x ^ y) & 0xFF));
    }

    /** Software rendering as a compositor does it: through vmap, inside a CPU-write bracket. */
    private static void render(ScanoutFixture f, DmaBuf buf, DumbBuffer b) {
        f.exp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        MemorySegment fb = f.exp.vmap(buf);
        try {
            for (long y = 0; y < b.heightUnsigned(); y++) {
                for (long x = 0; x < b.widthUnsigned(); x++) {
                    fb.set(PIXEL, b.offsetOf(x, y), pixel(x, y));
                }
            }
        } finally {
            f.exp.vunmap(buf, fb);
            f.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        }
    }

    @Test
    void softwareRenderingThroughVmapIsWhatTheScanoutEngineReadsThroughItsTable() {
        DumbBuffer b = f.device.createDumb(300, 200, 32, 0); // pitch 1200, 240000 bytes -> 59 pages
        assertEquals(59 * PAGE, b.size());
        DmaBuf buf = f.device.exportDumb(b.handle(), DumbBufferDevice.DRM_CLOEXEC | DumbBufferDevice.DRM_RDWR);
        render(f, buf, b);

        DmaBuf mine = f.imp.get(buf); // the display bundle keeps the buffer: its own reference
        DmaBufAttachment att = f.imp.attach(mine, CRTC);
        SgTable table = f.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE);
        assertEquals(1, table.nents(), "one contiguous segment for a scanout engine");
        SgTable.Entry seg = table.entries().get(0);
        assertEquals(b.size(), seg.length());
        assertTrue(CRTC.canReach(seg.dmaAddress(), seg.length()), "below 4 GiB");

        MemorySegment dma = f.memory.resolve(seg.dmaAddress(), seg.length());
        for (long y = 0; y < 200; y++) {
            for (long x = 0; x < 300; x++) {
                assertEquals(pixel(x, y), dma.get(PIXEL, y * 1200 + x * 4), "pixel " + x + "," + y);
            }
        }

        // Zero copy the other way: what the device writes at its bus address, the CPU reads through vmap.
        dma.set(PIXEL, 199 * 1200 + 299 * 4, 0x1234_5678);
        f.imp.beginCpuAccess(mine, DmaDataDirection.FROM_DEVICE);
        MemorySegment view = f.imp.vmap(mine);
        assertEquals(dma.address(), view.address(), "the vmap is the storage the table points at");
        assertEquals(0x1234_5678, view.get(PIXEL, 199 * 1200 + 299 * 4));
        f.imp.vunmap(mine, view);
        f.imp.endCpuAccess(mine, DmaDataDirection.FROM_DEVICE);

        ScanoutOps ops = f.device.exportOf(b.handle());
        assertEquals(2, ops.counters().get(Op.VMAP), "the exporter sees each first vmap");
        assertEquals(2, ops.counters().get(Op.VUNMAP));
        assertEquals(2, ops.counters().get(Op.BEGIN_CPU_ACCESS));
        assertEquals(2, ops.counters().get(Op.END_CPU_ACCESS));
        assertEquals(1, ops.counters().get(Op.ATTACH));
        assertEquals(1, ops.counters().get(Op.MAP));

        f.imp.unmapAttachment(att, table, DmaDataDirection.TO_DEVICE);
        f.imp.detach(att);
        assertEquals(1, ops.counters().get(Op.UNMAP));
        assertEquals(1, ops.counters().get(Op.DETACH));
        f.imp.put(mine);
        assertFalse(ops.isReleased(), "the device still holds its reference while the handle exists");
        f.device.destroyDumb(b.handle());
        assertTrue(ops.isReleased());
        assertEquals(1, ops.counters().get(Op.RELEASE));
        assertTrue(f.poolWhole(), () -> "pool: " + f.poolStats());
    }

    @Test
    void kmapAndMmapShowTheSamePagesAsTheTable() {
        DumbBuffer b = f.device.createDumb(1024, 4, 32, 0); // 4 pages, one row per page
        DmaBuf buf = f.imp.get(f.device.exportDumb(b.handle(), DumbBufferDevice.DRM_RDWR));
        DmaBufAttachment att = f.imp.attach(buf, CRTC);
        SgTable table = f.imp.mapAttachment(att, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment dma = f.memory.resolve(table.entries().get(0).dmaAddress(), b.size());

        f.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment page2 = f.imp.kmap(buf, 2);
        assertEquals(PAGE, page2.byteSize());
        page2.set(PIXEL, 8, 0xCAFE_F00D);
        f.imp.kunmap(buf, 2, page2);
        f.imp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        assertEquals(0xCAFE_F00D, dma.get(PIXEL, 2 * PAGE + 8), "kmap of page 2 is the table's page 2");

        int fd = f.imp.fd(f.imp.get(buf), DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC);
        try (DmaBufMapping map = f.imp.mmap(fd, PAGE, 2 * PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE)) {
            assertEquals(0xCAFE_F00D, map.segment().get(PIXEL, PAGE + 8), "mmap from page 1 shows page 2 next");
            map.segment().set(PIXEL, 0, 0x0BAD_BEEF);
        }
        f.imp.close(fd);
        assertEquals(0x0BAD_BEEF, dma.get(PIXEL, PAGE), "what the mmap wrote is in the table's page 1");

        ScanoutOps ops = f.device.exportOf(b.handle());
        assertEquals(1, ops.counters().get(Op.KMAP));
        assertEquals(1, ops.counters().get(Op.KUNMAP));
        assertEquals(1, ops.counters().get(Op.MMAP));
        assertEquals(1, f.device.counters().get(Op.MMAP), "the device totals count it too");

        f.imp.unmapAttachment(att, table, DmaDataDirection.BIDIRECTIONAL);
        f.imp.detach(att);
        f.imp.put(buf);
        f.device.destroyDumb(b.handle());
        assertTrue(f.poolWhole());
    }

    @Test
    void everyKindOfDeviceThatCanReachTheRunGetsOneSegmentOthersAreRefusedWithEbusy() {
        DumbBuffer b = f.device.createDumb(1920, 1080, 32, 0);
        DmaBuf buf = f.imp.get(f.device.exportDumb(b.handle(), 0));
        PageRunCheck.assertOneRunBelow4GiB(f.device.objectOf(b.handle()).allocation(), b.size());

        // The device's own allocation builds a one-segment table for a contiguous 32-bit device.
        SgTable direct = f.device.objectOf(b.handle()).allocation().sgTable(CRTC);
        assertEquals(1, direct.nents());

        for (Device ok : List.of(CRTC,
                Device.of("any").withSegmentLimits(Long.MAX_VALUE, 1),
                Device.of("dma32").withDmaMask(Device.DMA_MASK_32),
                Device.of("iommu-gpu"))) {
            DmaBufAttachment att = f.imp.attach(buf, ok);
            SgTable t = f.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE);
            assertEquals(1, t.nents(), ok.name());
            assertEquals(b.size(), t.totalLength(), ok.name());
            f.imp.detach(att); // unmaps the table too
        }

        Device tooShortSegments = Device.of("dma-engine").withSegmentLimits(64 * PAGE, 1);
        String why = assertErrno(Errno.EBUSY, () -> f.imp.attach(buf, tooShortSegments)).getMessage();
        assertTrue(why.contains("'card0'") && why.contains("'dma-engine'"), why);
        Device lowMask = Device.of("isa-dma").withDmaMask(0x00FF_FFFFL);
        why = assertErrno(Errno.EBUSY, () -> f.imp.attach(buf, lowMask)).getMessage();
        assertTrue(why.contains("DMA mask"), why);
        assertEquals(0, f.device.counters().get(Op.ATTACH) - 4, "refused attaches are not counted");

        f.imp.put(buf);
        f.device.destroyDumb(b.handle());
        assertTrue(f.poolWhole());
    }

    @Test
    void theDeviceKeepsOneReferenceWhileTheHandleExistsImportersTheirOwn() {
        DumbBuffer b = f.device.createDumb(64, 64, 32, 0);
        DmaBuf buf = f.device.exportDumb(b.handle(), DumbBufferDevice.DRM_RDWR);
        assertErrno(Errno.EINVAL, () -> f.imp.put(buf)); // the display bundle holds no reference of its own
        DmaBuf held = f.imp.get(buf);

        f.device.destroyDumb(b.handle()); // the device's reference goes; the display bundle's stays
        ScanoutOps ops = f.device.exportOf(b.handle());
        assertNull(ops, "the handle is gone");
        assertEquals(1, f.device.liveObjects(), "the storage lives on for the importer");
        assertFalse(f.poolWhole());
        f.imp.beginCpuAccess(held, DmaDataDirection.TO_DEVICE);
        MemorySegment v = f.imp.vmap(held);
        v.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        f.imp.vunmap(held, v);
        f.imp.endCpuAccess(held, DmaDataDirection.TO_DEVICE);

        f.imp.put(held); // the last reference: release frees the storage
        assertEquals(0, f.device.liveObjects());
        assertTrue(f.poolWhole());
        assertEquals(1, f.device.counters().get(Op.RELEASE));

        // Without an importer, DESTROY_DUMB releases the dma-buf at once.
        DumbBuffer c = f.device.createDumb(64, 64, 32, 0);
        f.device.exportDumb(c.handle(), 0);
        f.device.destroyDumb(c.handle());
        assertEquals(2, f.device.counters().get(Op.RELEASE));
        assertTrue(f.poolWhole());
    }

    @Test
    void aBufferTheCoreRevokedIsExportedAnewWhileItsHandleLives() {
        DumbBuffer b = f.device.createDumb(64, 64, 32, 0);
        DmaBuf first = f.imp.get(f.device.exportDumb(b.handle(), DumbBufferDevice.DRM_RDWR));
        ScanoutOps firstOps = f.device.exportOf(b.handle());

        f.unregisterExporter(); // as when the DmaBufExporter service goes away: the core revokes
        assertTrue(firstOps.isReleased(), "release ran at the revoke");
        assertErrno(Errno.ENODEV, () -> f.imp.vmap(first));
        assertEquals(1, f.device.liveObjects(), "the handle keeps the storage");
        assertFalse(f.poolWhole());

        f.registerExporter("card0");
        DmaBuf second = f.device.exportDumb(b.handle(), DumbBufferDevice.DRM_RDWR);
        assertNotSame(first, second);
        assertSame(second, f.device.exportDumb(b.handle(), 0));
        f.imp.put(first);

        f.device.destroyDumb(b.handle());
        assertTrue(f.poolWhole());
        assertEquals(2, f.device.counters().get(Op.RELEASE));
    }

    @Test
    void stoppingTheDeviceRevokesWhatImportersStillHoldBeforeClosingThePool() {
        DumbBuffer b = f.device.createDumb(640, 480, 32, 0);
        DmaBuf held = f.imp.get(f.device.exportDumb(b.handle(), DumbBufferDevice.DRM_RDWR));
        DmaBufAttachment att = f.imp.attach(held, CRTC);
        SgTable table = f.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE);
        MemorySegment view = f.imp.vmap(held);
        DumbBuffer unexported = f.device.createDumb(64, 64, 32, 0);
        DumbBuffer quiet = f.device.createDumb(64, 64, 32, 0);
        f.device.exportDumb(quiet.handle(), 0); // exported, but nobody else holds it
        ScanoutOps ops = f.device.exportOf(b.handle());
        ScanoutOps quietOps = f.device.exportOf(quiet.handle());

        f.device.shutdown();

        assertTrue(ops.isReleased());
        assertTrue(quietOps.isReleased());
        assertEquals(2, f.device.counters().get(Op.RELEASE), "release ran once per dma-buf");
        assertEquals(0, f.device.liveObjects(), "no storage in use when the pool closed");
        assertNull(f.poolStats(), "the pool is closed");
        assertTrue(f.deviceLog.infos.stream().anyMatch(m -> m.contains("3 handle(s) closed, 1 buffer(s) still held "
                + "by importers revoked")), f.deviceLog.infos.toString());
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0), "stale views die");
        assertErrno(Errno.ENODEV, () -> f.imp.vmap(held));
        f.imp.unmapAttachment(att, table, DmaDataDirection.TO_DEVICE); // teardown after revocation just works
        f.imp.detach(att);
        f.imp.put(held);
        assertErrno(Errno.ENODEV, () -> f.device.exportDumb(unexported.handle(), 0));
    }

    @Test
    void releaseRunsExactlyOncePerExport() {
        DumbBuffer b = f.device.createDumb(64, 64, 32, 0);
        DumbObject o = f.device.objectOf(b.handle());
        o.ref();
        ScanoutOps ops = new ScanoutOps("card0", o, new OpsCounters(), x -> {
        });
        ops.release(null);
        assertThrows(IllegalStateException.class, () -> ops.release(null));
        assertEquals(1, o.refs(), "only the handle's reference is left");
        f.device.destroyDumb(b.handle());
        assertTrue(f.poolWhole());
    }

    @Test
    void concurrentExportsOfOneHandleGiveOneDmaBuf() throws Exception {
        int threads = 8;
        int h = f.device.createDumb(256, 256, 32, 0).handle();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<DmaBuf>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return f.device.exportDumb(h, DumbBufferDevice.DRM_RDWR);
                }));
            }
            start.countDown();
            Set<DmaBuf> distinct = ConcurrentHashMap.newKeySet();
            for (Future<DmaBuf> r : results) {
                distinct.add(r.get(10, TimeUnit.SECONDS));
            }
            assertEquals(1, distinct.size());
            assertEquals(1, f.core.buffers().all().size());
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
        f.device.destroyDumb(h);
        assertTrue(f.poolWhole());
    }

    @Test
    void concurrentCreateExportDestroyLeavesThePoolWhole() throws Exception {
        int threads = 4;
        int rounds = 50;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        Set<Integer> liveHandles = ConcurrentHashMap.newKeySet();
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        DumbBuffer b = f.device.createDumb(64 + seed * 16 + i, 32 + i, 32, 0);
                        assertTrue(liveHandles.add(b.handle()), "handle " + b.handle() + " handed out twice");
                        DmaBuf buf = f.imp.get(f.device.exportDumb(b.handle(), DumbBufferDevice.DRM_RDWR));
                        f.device.mapDumbOffset(b.handle());
                        assertTrue(liveHandles.remove(b.handle()));
                        f.device.destroyDumb(b.handle());
                        f.imp.put(buf);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> d : done) {
                d.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS));
        }
        assertEquals(0, f.device.handleCount());
        assertEquals(0, f.device.liveObjects());
        assertEquals(threads * rounds, f.device.counters().get(Op.RELEASE));
        assertTrue(f.poolWhole(), () -> "pool: " + f.poolStats());
    }
}
