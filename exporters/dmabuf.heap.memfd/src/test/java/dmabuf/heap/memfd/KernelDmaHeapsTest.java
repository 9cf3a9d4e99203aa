package dmabuf.heap.memfd;

import static dmabuf.heap.memfd.OsFixture.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.os.Libc;

/**
 * The kernel's own dma-heaps. Where {@code /dev/dma_heap} is absent (most CI machines and containers) the component
 * must say so and register nothing, and the tests that need real kernel dma-bufs are skipped with that reason.
 */
class KernelDmaHeapsTest {
    private static final Path DEV = Path.of("/dev/dma_heap");

    @Test
    void withoutTheDeviceDirectoryNothingIsRegisteredAndTheReasonIsGiven(@TempDir Path dir) {
        try (OsFixture f = new OsFixture()) {
            Path missing = dir.resolve("dma_heap");
            KernelDmaHeaps heaps = f.kernelHeaps(Map.of("dir", missing.toString()));
            assertNotNull(heaps.unavailableReason());
            assertTrue(heaps.unavailableReason().contains(Libc.available() ? missing.toString() : "Linux"),
                    heaps.unavailableReason());
            assertTrue(heaps.names().isEmpty());
            assertTrue(f.caller.heaps().isEmpty(), "no heap may be faked: " + f.caller.heaps());
            assertTrue(f.services.isEmpty(), "no exporter service either");
        }
    }

    @Test
    void onThisHostTheRealDirectoryDecides() {
        try (OsFixture f = new OsFixture()) {
            KernelDmaHeaps heaps = f.kernelHeaps(Map.of());
            if (Files.isDirectory(DEV) && Libc.available()) {
                assertEquals(heaps.names().isEmpty(), heaps.unavailableReason() != null);
            } else {
                assertNotNull(heaps.unavailableReason());
                assertTrue(f.caller.heaps().isEmpty());
            }
        }
    }

    @Test
    void realKernelDmaBufsAreMappedSyncedAndExportable() {
        assumeTrue(Libc.available(), "kernel dma-heaps need Linux: " + Libc.unavailableReason());
        assumeTrue(Files.isDirectory(DEV), "this host has no " + DEV + " (no kernel dma-heap driver loaded, or a "
                + "container without the device): real kernel dma-bufs cannot be tested here");
        try (OsFixture f = new OsFixture()) {
            KernelDmaHeaps heaps = f.kernelHeaps(Map.of());
            assumeTrue(heaps.unavailableReason() == null, "kernel dma-heaps unusable: " + heaps.unavailableReason());
            String heap = heaps.names().get(0);
            int fd = f.caller.heapAllocate(heap, 4 * PAGE, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, 0);
            DmaBuf buf = f.caller.get(fd);
            f.caller.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL); // DMA_BUF_IOCTL_SYNC START, RW
            MemorySegment v = f.caller.vmap(buf);
            v.set(ValueLayout.JAVA_LONG, 0, 42L);
            assertEquals(42L, v.get(ValueLayout.JAVA_LONG, 0));
            f.caller.vunmap(buf, v);
            f.caller.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL); // DMA_BUF_IOCTL_SYNC END
            int os = f.caller.osFd(buf);
            try {
                assertEquals(4 * PAGE, Libc.fstat(os).size());
                assertTrue(Libc.isCloseOnExec(os));
            } finally {
                Libc.close(os);
            }
            f.caller.put(buf);
            f.caller.close(fd);
        }
    }

    @Test
    void syncFlagsFollowTheDirection() {
        assertEquals(DmaBufUapi.DMA_BUF_SYNC_READ, KernelBufferOps.syncFlags(DmaDataDirection.FROM_DEVICE));
        assertEquals(DmaBufUapi.DMA_BUF_SYNC_WRITE, KernelBufferOps.syncFlags(DmaDataDirection.TO_DEVICE));
        assertEquals(DmaBufUapi.DMA_BUF_SYNC_RW, KernelBufferOps.syncFlags(DmaDataDirection.BIDIRECTIONAL));
        // _IOWR('H', 0, 24 bytes): dir 3 << 30 | size 24 << 16 | 'H' << 8 | 0
        assertEquals((3L << 30) | (24L << 16) | ('H' << 8), KernelDmaHeaps.DMA_HEAP_IOCTL_ALLOC);
    }
}
