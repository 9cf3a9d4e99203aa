package dmabuf.exporter.gpu;

import static dmabuf.exporter.gpu.GpuFixture.PAGE;
import static dmabuf.exporter.gpu.GpuFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.gpu.api.Residency;

/** Handles and PRIME export: the DRM rules and their errnos. */
class PrimeExportTest {

    @ParameterizedTest
    @ValueSource(ints = {0, DmaBufUapi.O_CLOEXEC, DmaBufUapi.O_RDWR, DmaBufUapi.O_CLOEXEC | DmaBufUapi.O_RDWR})
    void theFourAllowedFlagCombinationsExport(int flags) {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(3 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, flags);
            assertEquals(3 * PAGE, buf.size());
            assertEquals("gpu0", buf.exporterName());
            assertTrue(f.gpu.info(h).exported());
            // DRM_RDWR maps to O_RDWR; without it the buffer is read-only, which an importer's fd shows
            f.imp.get(buf);
            if ((flags & Gpu.DRM_RDWR) != 0) {
                int fd = f.imp.fd(buf, DmaBufUapi.O_RDWR);
                assertEquals(DmaBufUapi.O_RDWR, f.imp.fdinfo(fd).flags() & DmaBufUapi.O_ACCMODE);
            } else {
                assertErrno(Errno.EACCES, () -> f.imp.fd(buf, DmaBufUapi.O_RDWR));
                int fd = f.imp.fd(buf, DmaBufUapi.O_RDONLY);
                assertEquals(DmaBufUapi.O_RDONLY, f.imp.fdinfo(fd).flags() & DmaBufUapi.O_ACCMODE);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x1, 0x800, -1, DmaBufUapi.O_RDWR | 0x1, 0x40000})
    void anyOtherFlagIsEinvalAndExportsNothing(int flags) {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            assertErrno(Errno.EINVAL, () -> f.gpu.primeExport(h, flags));
            assertFalse(f.gpu.info(h).exported());
            assertTrue(f.core.buffers().all().isEmpty(), "no buffer was exported");
        }
    }

    @Test
    void closedOrUnknownHandlesAreEnoent() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            f.gpu.closeHandle(h);
            assertErrno(Errno.ENOENT, () -> f.gpu.primeExport(h, Gpu.DRM_RDWR));
            assertErrno(Errno.ENOENT, () -> f.gpu.closeHandle(h));
            assertErrno(Errno.ENOENT, () -> f.gpu.info(h));
            assertErrno(Errno.ENOENT, () -> f.gpu.gpuFill(h, 0, 1, (byte) 1));
            assertErrno(Errno.ENOENT, () -> f.gpu.primeExport(0, 0));
            assertErrno(Errno.ENOENT, () -> f.gpu.primeExport(77, 0));
            assertErrno(Errno.ENOENT, () -> f.gpu.closeHandle(-3));
        }
    }

    @Test
    void flagsAreCheckedBeforeTheHandleAsInDrm() {
        try (GpuFixture f = new GpuFixture()) {
            // drm_prime_handle_to_fd_ioctl rejects the flags before it looks the handle up
            assertErrno(Errno.EINVAL, () -> f.gpu.primeExport(42, 0x800));
        }
    }

    @Test
    void sizesThatAreNotPositiveOrCouldNeverBePlacedAreRefused() {
        try (GpuFixture f = new GpuFixture()) {
            assertErrno(Errno.EINVAL, () -> f.gpu.createObject(0));
            assertErrno(Errno.EINVAL, () -> f.gpu.createObject(-4096));
            assertErrno(Errno.EINVAL, () -> f.gpu.createObject(Long.MAX_VALUE));
            assertErrno(Errno.ENOMEM, () -> f.gpu.createObject(65 * GpuFixture.MIB));
            int h = f.gpu.createObject(1);
            assertEquals(PAGE, f.gpu.info(h).size(), "rounded up to a whole page");
        }
    }

    @Test
    void handlesAreTheLowestFreePositiveInts() {
        try (GpuFixture f = new GpuFixture()) {
            assertEquals(1, f.gpu.createObject(PAGE));
            assertEquals(2, f.gpu.createObject(PAGE));
            assertEquals(3, f.gpu.createObject(PAGE));
            f.gpu.closeHandle(2);
            assertEquals(2, f.gpu.createObject(PAGE));
            assertEquals(4, f.gpu.createObject(PAGE));
        }
    }

    @Test
    void exportingTwiceReturnsTheSameBufferWithNoExtraReference() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            DmaBuf a = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            DmaBuf b = f.gpu.primeExport(h, Gpu.DRM_CLOEXEC);
            assertSame(a, b);
            assertEquals(1, f.core.buffers().all().size());
            // the GPU holds exactly one reference: its close is the last put, and the buffer is released
            f.gpu.closeHandle(h);
            assertTrue(f.core.buffers().all().isEmpty());
        }
    }

    @Test
    void theObjectOutlivesItsHandleWhileAnImporterHoldsTheBuffer() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(16 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.gpu.gpuFill(h, 0, 16 * PAGE, (byte) 0x5A); // places it
            assertEquals(Residency.VRAM, f.gpu.info(h).placement());
            long vramUsed = f.live("vram");
            assertTrue(vramUsed >= 16 * PAGE);

            f.imp.get(buf);
            f.gpu.closeHandle(h);
            assertEquals(vramUsed, f.live("vram"), "the importer's reference keeps the storage");
            f.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            MemorySegment page = f.imp.kmap(buf, 5);
            assertEquals((byte) 0x5A, page.get(ValueLayout.JAVA_BYTE, 7));
            f.imp.kunmap(buf, 5, page);
            f.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);

            f.imp.put(buf); // the last reference: release frees the VRAM
            assertEquals(0, f.live("vram"));
            assertTrue(f.core.buffers().all().isEmpty());
            assertEquals(f.gpu.memory().vramCapacity(), f.gpu.memory().vramAvailable());
        }
    }

    @Test
    void closingAHandleThatWasNeverExportedFreesItsStorageAtOnce() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(8 * PAGE);
            f.gpu.gpuFill(h, 0, PAGE, (byte) 1);
            assertTrue(f.live("vram") > 0);
            f.gpu.closeHandle(h);
            assertEquals(0, f.live("vram"));
        }
    }

    @Test
    void gpuFillChecksItsRange() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(2 * PAGE);
            assertErrno(Errno.EINVAL, () -> f.gpu.gpuFill(h, 0, 0, (byte) 1));
            assertErrno(Errno.EINVAL, () -> f.gpu.gpuFill(h, -1, 4, (byte) 1));
            assertErrno(Errno.EINVAL, () -> f.gpu.gpuFill(h, PAGE, PAGE + 1, (byte) 1));
            assertErrno(Errno.EINVAL, () -> f.gpu.gpuFill(h, Long.MAX_VALUE, 2, (byte) 1));
            assertEquals(Residency.UNPLACED, f.gpu.info(h).placement(), "a refused fill places nothing");
        }
    }

    @Test
    void aStoppedDeviceRefusesNewWork() {
        try (GpuFixture f = new GpuFixture()) {
            f.gpu.close();
            assertErrno(Errno.ENODEV, () -> f.gpu.createObject(PAGE));
            assertErrno(Errno.ENODEV, () -> f.gpu.primeExport(1, 0));
        }
    }

    @Test
    void theGpuPutsItsReferenceToARevokedBufferAndCanExportAgain() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(4 * PAGE);
            DmaBuf first = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.gpu.gpuFill(h, 0, 4 * PAGE, (byte) 0x33);
            f.imp.get(first);
            f.gpuRegistry.revoke(first); // as the core does when the exporter service goes away
            assertFalse(f.gpu.info(h).exported());
            assertEquals(Residency.VRAM, f.gpu.info(h).placement(), "the handle keeps the object and its storage");

            DmaBuf second = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            assertNotSame(first, second);
            f.imp.put(first); // the GPU put its own reference to the revoked buffer when it exported again
            assertEquals(1, f.core.buffers().all().size(), "only the new buffer is left");

            f.imp.beginCpuAccess(second, DmaDataDirection.FROM_DEVICE);
            MemorySegment page = f.imp.kmap(second, 3);
            assertEquals((byte) 0x33, page.get(ValueLayout.JAVA_BYTE, 100), "same object, same bytes");
            f.imp.kunmap(second, 3, page);
            f.imp.endCpuAccess(second, DmaDataDirection.FROM_DEVICE);

            f.gpu.closeHandle(h);
            assertTrue(f.core.buffers().all().isEmpty());
            assertEquals(0, f.live("vram"));
        }
    }

    @Test
    void closingTheHandleOfARevokedBufferPutsTheGpusReference() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            DmaBuf buf = f.gpu.primeExport(h, 0);
            f.gpuRegistry.revoke(buf);
            assertEquals(1, f.core.buffers().all().size(), "a revoked buffer's references stay counted");
            f.gpu.closeHandle(h);
            assertTrue(f.core.buffers().all().isEmpty(), "the GPU's reference was put");
        }
    }
}
