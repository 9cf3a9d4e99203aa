package dmabuf.exporter.gpu;

import static dmabuf.exporter.gpu.GpuFixture.PAGE;
import static dmabuf.exporter.gpu.GpuFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.exporter.gpu.api.Gpu;

/** The driver against a real core and memory engine: zero copy from the GPU's writes to an importer's DMA. */
class CoreRunTest {
    static final int PAGES = 20;

    @Test
    void anImporterDevicesDmaSeesTheBytesTheGpuWrote_zeroCopy_andThePoolIsWholeAfterwards() {
        try (GpuFixture f = new GpuFixture()) {
            // the driver's code path: create, the GPU writes every page with its own value, PRIME export
            int h = f.gpu.createObject(PAGES * PAGE);
            for (int p = 0; p < PAGES; p++) {
                f.gpu.gpuFill(h, p * PAGE, PAGE, (byte) (0x40 + p));
            }
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR | Gpu.DRM_CLOEXEC);

            // another bundle imports it: its own reference, its device attached and mapped
            f.imp.get(buf);
            DmaBufAttachment a = f.imp.attach(buf, Device.of("display"));
            SgTable table = f.imp.mapAttachment(a, DmaDataDirection.BIDIRECTIONAL);
            assertEquals(PAGES * PAGE, table.totalLength());

            // the device "does DMA": the bus addresses resolve to the very memory the GPU wrote
            long offset = 0;
            MemorySegment firstSegment = null;
            for (SgTable.Entry e : table.entries()) {
                MemorySegment m = f.importerMemory.resolve(e.dmaAddress(), e.length());
                if (firstSegment == null) {
                    firstSegment = m;
                }
                for (long i = 0; i < e.length(); i += 512) {
                    long page = (offset + i) / PAGE;
                    assertEquals((byte) (0x40 + page), m.get(ValueLayout.JAVA_BYTE, i), "byte " + (offset + i));
                }
                offset += e.length();
            }

            // zero copy both ways: the GPU writes again, the mapped device sees it without any new map...
            f.gpu.gpuFill(h, 0, 8, (byte) 0x7E);
            assertEquals((byte) 0x7E, firstSegment.get(ValueLayout.JAVA_BYTE, 3));
            // ...and what the device writes is what the CPU reads through the exporter's kmap of page 0
            firstSegment.set(ValueLayout.JAVA_INT_UNALIGNED, 64, 0xC0FFEE);
            f.gpuRegistry.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            MemorySegment page0 = f.gpuRegistry.kmap(buf, 0);
            assertEquals(0xC0FFEE, page0.get(ValueLayout.JAVA_INT_UNALIGNED, 64));
            f.gpuRegistry.kunmap(buf, 0, page0);
            f.gpuRegistry.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);

            long vram = f.live("vram");
            assertEquals(PAGES * PAGE, vram, "one copy of the buffer, in VRAM");
            assertEquals(0, f.live("sysmem"));

            // release: unmap, detach, put; the GPU closes its handle and the pool is whole again
            f.imp.unmapAttachment(a, table, DmaDataDirection.BIDIRECTIONAL);
            f.imp.detach(a);
            f.imp.put(buf);
            assertEquals(PAGES * PAGE, f.live("vram"), "the GPU's handle still holds it");
            f.gpu.closeHandle(h);
            assertEquals(0, f.live("vram"));
            assertEquals(0, f.pool("vram").allocations);
            assertEquals(f.gpu.memory().vramCapacity(), f.gpu.memory().vramAvailable());
            assertTrue(f.core.buffers().all().isEmpty());

            f.gpu.close();
            assertNull(f.pool("vram"), "the pools are closed with the device");
            assertNull(f.pool("sysmem"));
            assertTrue(f.log.warnings.isEmpty(), f.log.warnings.toString());
            assertTrue(f.log.errors.isEmpty(), f.log.errors.toString());
        }
    }

    @Test
    void stoppingTheDeviceRevokesBuffersImportersStillHoldBeforeItsPoolsClose() throws Exception {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(4 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            CountDownLatch told = new CountDownLatch(1);
            DmaBufAttachment a = f.imp.dynamicAttach(buf, Device.of("encoder"), att -> told.countDown());
            SgTable t = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
            assertEquals(4 * PAGE, f.live("vram"));

            f.gpu.close();

            assertTrue(told.await(5, TimeUnit.SECONDS), "the dynamic importer was told");
            assertErrno(Errno.ENODEV, () -> f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
            assertFalse(a.isAttached());
            assertNull(f.pool("vram"), "closed after the revoke released the storage");
            assertTrue(f.log.warningsContaining("still open").isEmpty(), f.log.warnings.toString());
            // the importer's teardown still works on the revoked buffer
            f.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE);
            f.imp.detach(a);
            f.imp.put(buf);
            assertTrue(f.core.buffers().all().isEmpty());
        }
    }

    @Test
    void aThirtyTwoBitImporterReadsMigratedBytesThroughTheCore() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGES * PAGE);
            for (int p = 0; p < PAGES; p++) {
                f.gpu.gpuFill(h, p * PAGE, PAGE, (byte) (0x10 + p));
            }
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            DmaBufAttachment a = f.imp.attach(buf, Device.of("usb-cam").withDmaMask(Device.DMA_MASK_32));
            SgTable t = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
            assertTrue(GpuFixture.below4G(t));
            f.dmaCheck(t, off -> {
                long page = off / PAGE;
                int b = (0x10 + (int) page) & 0xFF;
                return b | b << 8 | b << 16 | (long) b << 24;
            });
            assertEquals(0, f.live("vram"));
            assertEquals(PAGES * PAGE, f.live("sysmem"));
        }
    }
}
