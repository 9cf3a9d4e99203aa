package dmabuf.exporter.gpu;

import static dmabuf.exporter.gpu.GpuFixture.MIB;
import static dmabuf.exporter.gpu.GpuFixture.PAGE;
import static dmabuf.exporter.gpu.GpuFixture.assertErrno;
import static dmabuf.exporter.gpu.GpuFixture.below4G;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.gpu.api.Residency;

/** Deferred placement: nothing is allocated until first use, then VRAM if every attached device can use it. */
class PlacementTest {
    static final Device DEV64 = Device.of("dev64");
    static final Device DEV32 = Device.of("dev32").withDmaMask(Device.DMA_MASK_32);

    @Test
    void nothingIsAllocatedBeforeTheFirstMap() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(40 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            DmaBufAttachment a = f.imp.attach(buf, DEV64);
            assertEquals(Residency.UNPLACED, f.gpu.info(h).placement());
            assertEquals(0, f.live("vram"));
            assertEquals(0, f.live("sysmem"));
            assertEquals(f.gpu.memory().vramCapacity(), f.gpu.memory().vramAvailable());

            SgTable t = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
            assertEquals(Residency.VRAM, f.gpu.info(h).placement());
            assertEquals(40 * PAGE, f.live("vram"));
            assertEquals(0, f.live("sysmem"));
            assertEquals(40 * PAGE, t.totalLength());
            assertFalse(below4G(t), "VRAM lies above 4 GiB by default: " + t);
            // 40 pages in 64 KiB chunks: 3 chunks of 16, 16 and 8 pages
            assertTrue(t.nents() <= 3, "VRAM comes in 64 KiB chunks: " + t);
            f.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE);
            f.imp.detach(a);
            f.imp.put(buf);
        }
    }

    @Test
    void aThirtyTwoBitDeviceAttachedBeforeTheFirstMapGetsSystemMemory() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(6 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            DmaBufAttachment wide = f.imp.attach(buf, DEV64);
            DmaBufAttachment narrow = f.imp.attach(buf, DEV32);
            assertEquals(Residency.UNPLACED, f.gpu.info(h).placement());

            SgTable t64 = f.imp.mapAttachment(wide, DmaDataDirection.BIDIRECTIONAL);
            assertEquals(Residency.SYSTEM, f.gpu.info(h).placement(), "VRAM does not suit dev32");
            assertEquals(0, f.live("vram"), "no VRAM was kept");
            assertEquals(6 * PAGE, f.live("sysmem"));
            assertTrue(below4G(t64));
            assertEquals(6, t64.nents(), "system memory comes in scattered 4 KiB pages: " + t64);
            SgTable t32 = f.imp.mapAttachment(narrow, DmaDataDirection.FROM_DEVICE);
            assertTrue(below4G(t32));
            assertEquals(0, f.gpu.info(h).migrations());
        }
    }

    @Test
    void theGpuItselfPlacesInVramAndTheFirstCpuAccessPlacesToo() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            f.gpu.gpuFill(h, 0, PAGE, (byte) 7);
            assertEquals(Residency.VRAM, f.gpu.info(h).placement());

            int h2 = f.gpu.createObject(PAGE);
            DmaBuf buf = f.gpu.primeExport(h2, Gpu.DRM_RDWR);
            f.gpuRegistry.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
            assertEquals(Residency.VRAM, f.gpu.info(h2).placement());
            f.gpuRegistry.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        }
    }

    @Test
    void aDeviceThatCannotReachSystemMemoryIsRefusedWhileUnplaced() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            Device dev28 = Device.of("dev28").withDmaMask(0x0FFF_FFFFL); // below ZONE_DMA32, where nothing lies
            DmaBufException e = assertErrno(Errno.EBUSY, () -> f.imp.attach(buf, dev28));
            assertTrue(e.getMessage().contains("dev28"), e.getMessage());
            assertEquals(0, f.gpu.info(h).attachments());
        }
    }

    @Test
    void aFullVramFallsBackToSystemMemory() {
        try (GpuFixture f = new GpuFixture(new GpuSettings("gpu0", MIB, -1L, 8 * MIB))) {
            int big = f.gpu.createObject(2 * MIB);
            f.gpu.gpuFill(big, 0, 1, (byte) 1);
            assertEquals(Residency.SYSTEM, f.gpu.info(big).placement());
            assertEquals(0, f.live("vram"));
            int small = f.gpu.createObject(PAGE);
            f.gpu.gpuFill(small, 0, 1, (byte) 1);
            assertEquals(Residency.VRAM, f.gpu.info(small).placement());
        }
    }

    @Test
    void vramBelowFourGigabytesSuitsThirtyTwoBitDevices() {
        try (GpuFixture f = new GpuFixture(new GpuSettings("gpu0", 4 * MIB, 0xFFFF_FFFFL, 4 * MIB))) {
            int h = f.gpu.createObject(4 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            DmaBufAttachment a = f.imp.attach(buf, DEV32);
            SgTable t = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
            assertEquals(Residency.VRAM, f.gpu.info(h).placement());
            assertTrue(below4G(t));
        }
    }

    @Test
    void aDeviceThatCannotUseTheChosenStorageIsRefusedAtMap() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(8 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            // needs one segment: neither scattered pool can promise that for 8 pages of 4 KiB system memory
            Device scanout = Device.of("scanout").withDmaMask(Device.DMA_MASK_32).withContiguous(true);
            DmaBufAttachment a = f.imp.attach(buf, scanout);
            DmaBufException e = assertErrno(Errno.EBUSY, () -> f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
            assertTrue(e.getMessage().contains("scanout"), e.getMessage());
            assertEquals(Residency.SYSTEM, f.gpu.info(h).placement());
            assertEquals(0, f.gpu.info(h).mappedTables());
        }
    }
}
