package dmabuf.exporter.gpu;

import static dmabuf.exporter.gpu.GpuFixture.PAGE;
import static dmabuf.exporter.gpu.GpuFixture.assertErrno;
import static dmabuf.exporter.gpu.GpuFixture.below4G;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.gpu.api.ObjectInfo;
import dmabuf.exporter.gpu.api.Residency;

/**
 * A device that cannot reach VRAM attaching to a buffer already in VRAM: migration to system memory when nothing
 * holds it there, EBUSY when something does.
 */
class MigrationTest {
    static final Device DEV64 = Device.of("dev64");
    static final Device DEV32 = Device.of("dev32").withDmaMask(Device.DMA_MASK_32);
    static final long SIZE = 24 * PAGE; // two VRAM chunks, 24 system pages
    static final LongUnaryOperator PATTERN = off -> 0x6B00_0000L ^ (off * 2654435761L);

    /** A dynamic importer that records the notifications it gets. */
    static final class Recorder implements DmaBufImporterOps {
        final List<DmaBufAttachment> invalidated = new CopyOnWriteArrayList<>();

        @Override
        public void invalidateMappings(DmaBufAttachment attachment) {
            invalidated.add(attachment);
        }
    }

    /** An object in VRAM holding {@link #PATTERN}, written by a 64-bit dynamic importer's device, now unmapped. */
    record Scene(int handle, DmaBuf buf, DmaBufAttachment dynamic, Recorder ops) {
    }

    static Scene vramBufferWrittenByADevice(GpuFixture f) {
        int h = f.gpu.createObject(SIZE);
        DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
        f.imp.get(buf);
        Recorder ops = new Recorder();
        DmaBufAttachment dyn = f.imp.dynamicAttach(buf, DEV64, ops);
        SgTable t = f.imp.mapAttachment(dyn, DmaDataDirection.FROM_DEVICE);
        assertEquals(Residency.VRAM, f.gpu.info(h).placement());
        f.dmaWrite(t, PATTERN);
        f.imp.unmapAttachment(dyn, t, DmaDataDirection.FROM_DEVICE);
        return new Scene(h, buf, dyn, ops);
    }

    @Test
    void aThirtyTwoBitDeviceMovesAnUnmappedBufferToSystemMemory() {
        try (GpuFixture f = new GpuFixture()) {
            Scene s = vramBufferWrittenByADevice(f);
            assertEquals(SIZE, f.live("vram"));

            DmaBufAttachment narrow = f.imp.attach(s.buf(), DEV32);

            ObjectInfo info = f.gpu.info(s.handle());
            assertEquals(Residency.SYSTEM, info.placement());
            assertEquals(1, info.migrations());
            assertEquals(List.of(s.dynamic()), s.ops().invalidated, "the dynamic importer was told first");
            assertEquals(0, f.live("vram"), "the VRAM was freed");
            assertEquals(f.gpu.memory().vramCapacity(), f.gpu.memory().vramAvailable());
            assertEquals(SIZE, f.live("sysmem"));

            // the bytes came along, for the new device and for the dynamic importer mapping again
            SgTable t32 = f.imp.mapAttachment(narrow, DmaDataDirection.TO_DEVICE);
            assertTrue(below4G(t32), t32.toString());
            f.dmaCheck(t32, PATTERN);
            SgTable again = f.imp.mapAttachment(s.dynamic(), DmaDataDirection.TO_DEVICE);
            assertTrue(below4G(again));
            f.dmaCheck(again, PATTERN);
            assertTrue(f.log.infos.stream().anyMatch(m -> m.contains("migrated") && m.contains("dev32")),
                    f.log.infos.toString());
        }
    }

    @Test
    void aMappedTableKeepsTheBufferInVramAndTheAttachIsEbusy() {
        try (GpuFixture f = new GpuFixture()) {
            Scene s = vramBufferWrittenByADevice(f);
            SgTable held = f.imp.mapAttachment(s.dynamic(), DmaDataDirection.TO_DEVICE);

            DmaBufException e = assertErrno(Errno.EBUSY, () -> f.imp.attach(s.buf(), DEV32));
            assertTrue(e.getMessage().contains("dev32") && e.getMessage().contains("mapped"), e.getMessage());
            ObjectInfo info = f.gpu.info(s.handle());
            assertEquals(Residency.VRAM, info.placement());
            assertEquals(0, info.migrations());
            assertEquals(1, info.attachments(), "the refused device is not attached");
            assertTrue(s.ops().invalidated.isEmpty(), "nobody was told: nothing moved");
            f.dmaCheck(held, PATTERN);

            f.imp.unmapAttachment(s.dynamic(), held, DmaDataDirection.TO_DEVICE);
            f.imp.attach(s.buf(), DEV32); // nothing mapped any more: now it moves
            assertEquals(Residency.SYSTEM, f.gpu.info(s.handle()).placement());
        }
    }

    @Test
    void aPinKeepsTheBufferInVramUntilUnpinned() {
        try (GpuFixture f = new GpuFixture()) {
            Scene s = vramBufferWrittenByADevice(f);
            f.imp.pin(s.dynamic());
            assertEquals(1, f.gpu.info(s.handle()).pinCount());

            DmaBufException e = assertErrno(Errno.EBUSY, () -> f.imp.attach(s.buf(), DEV32));
            assertTrue(e.getMessage().contains("pinned"), e.getMessage());
            assertEquals(Residency.VRAM, f.gpu.info(s.handle()).placement());
            assertEquals(SIZE, f.live("vram"));

            f.imp.unpin(s.dynamic());
            assertEquals(0, f.gpu.info(s.handle()).pinCount());
            f.imp.attach(s.buf(), DEV32);
            assertEquals(Residency.SYSTEM, f.gpu.info(s.handle()).placement());
        }
    }

    @Test
    void aStaticImporterPinsThroughTheCore() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(SIZE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            DmaBufAttachment stat = f.imp.attach(buf, DEV64); // the core pins for a static importer
            assertEquals(1, f.gpu.info(h).pinCount());
            SgTable t = f.imp.mapAttachment(stat, DmaDataDirection.TO_DEVICE);
            f.imp.unmapAttachment(stat, t, DmaDataDirection.TO_DEVICE);
            assertErrno(Errno.EBUSY, () -> f.imp.attach(buf, DEV32));
            f.imp.detach(stat); // the core's pin goes with it
            assertEquals(0, f.gpu.info(h).pinCount());
            f.imp.attach(buf, DEV32);
            assertEquals(Residency.SYSTEM, f.gpu.info(h).placement());
        }
    }

    @Test
    void aVmapKeepsTheBufferInVram_andAPastOneKeepsTheOldVramUntilRelease() {
        try (GpuFixture f = new GpuFixture()) {
            assumeTrue(f.engine.nativeBacking(), "vmap of scattered pages needs memfd aliasing");
            Scene s = vramBufferWrittenByADevice(f);
            f.imp.beginCpuAccess(s.buf(), DmaDataDirection.FROM_DEVICE);
            MemorySegment view = f.imp.vmap(s.buf());
            assertEquals((int) PATTERN.applyAsLong(4 * PAGE), view.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * PAGE));
            DmaBufException e = assertErrno(Errno.EBUSY, () -> f.imp.attach(s.buf(), DEV32));
            assertTrue(e.getMessage().contains("vmapped"), e.getMessage());

            f.imp.vunmap(s.buf(), view);
            f.imp.endCpuAccess(s.buf(), DmaDataDirection.FROM_DEVICE);
            DmaBufAttachment narrow = f.imp.attach(s.buf(), DEV32);
            assertEquals(Residency.SYSTEM, f.gpu.info(s.handle()).placement());
            // the core keeps the stale view valid until the buffer's release, so the old VRAM stays allocated
            assertEquals(SIZE, f.live("vram"));
            assertEquals((int) PATTERN.applyAsLong(4 * PAGE), view.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * PAGE));

            f.imp.detach(narrow);
            f.imp.detach(s.dynamic());
            f.imp.put(s.buf());
            assertEquals(SIZE, f.live("vram"), "the GPU's handle still holds the buffer");
            f.gpu.closeHandle(s.handle()); // last reference: release frees both
            assertEquals(0, f.live("vram"));
            assertEquals(0, f.live("sysmem"));
        }
    }

    @Test
    void anMmappedBufferNeverMoves() {
        try (GpuFixture f = new GpuFixture()) {
            assumeTrue(f.engine.nativeBacking(), "mmap of scattered pages needs memfd aliasing");
            Scene s = vramBufferWrittenByADevice(f);
            f.imp.get(s.buf());
            int fd = f.imp.fd(s.buf(), DmaBufUapi.O_RDWR);
            DmaBufMapping m = f.imp.mmap(fd, 0, SIZE, DmaBufUapi.PROT_READ);
            assertEquals((int) PATTERN.applyAsLong(8), m.segment().get(ValueLayout.JAVA_INT_UNALIGNED, 8));
            m.close();
            DmaBufException e = assertErrno(Errno.EBUSY, () -> f.imp.attach(s.buf(), DEV32));
            assertTrue(e.getMessage().contains("mmapped"), e.getMessage());
            assertEquals(Residency.VRAM, f.gpu.info(s.handle()).placement());
        }
    }

    @Test
    void aKmappedPageKeepsTheBufferInVram() {
        try (GpuFixture f = new GpuFixture()) {
            Scene s = vramBufferWrittenByADevice(f);
            f.imp.beginCpuAccess(s.buf(), DmaDataDirection.FROM_DEVICE);
            MemorySegment page = f.imp.kmap(s.buf(), 3);
            assertEquals((int) PATTERN.applyAsLong(3 * PAGE + 16), page.get(ValueLayout.JAVA_INT_UNALIGNED, 16));
            assertErrno(Errno.EBUSY, () -> f.imp.attach(s.buf(), DEV32));
            f.imp.kunmap(s.buf(), 3, page);
            f.imp.endCpuAccess(s.buf(), DmaDataDirection.FROM_DEVICE);
            f.imp.attach(s.buf(), DEV32);
            assertEquals(Residency.SYSTEM, f.gpu.info(s.handle()).placement());
        }
    }

    @Test
    void aDeviceThatCanUseVramLeavesItThere() {
        try (GpuFixture f = new GpuFixture()) {
            Scene s = vramBufferWrittenByADevice(f);
            f.imp.attach(s.buf(), Device.of("another64"));
            assertEquals(Residency.VRAM, f.gpu.info(s.handle()).placement());
            assertTrue(s.ops().invalidated.isEmpty());
            assertFalse(f.gpu.info(s.handle()).migrations() > 0);
        }
    }

    @Test
    void twoThirtyTwoBitDevicesAttachingAtOnceBothGetInAndTheBufferMovesOnce() throws Exception {
        try (GpuFixture f = new GpuFixture()) {
            Scene s = vramBufferWrittenByADevice(f);
            CyclicBarrier start = new CyclicBarrier(2);
            ExecutorService threads = Executors.newFixedThreadPool(2);
            List<DmaBufAttachment> attached = new ArrayList<>();
            try {
                List<Future<DmaBufAttachment>> results = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    Device d = Device.of("dev32-" + i).withDmaMask(Device.DMA_MASK_32);
                    results.add(threads.submit(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        return f.imp.attach(s.buf(), d);
                    }));
                }
                for (Future<DmaBufAttachment> r : results) {
                    attached.add(r.get(10, TimeUnit.SECONDS));
                }
            } finally {
                threads.shutdownNow();
            }
            assertTrue(attached.stream().allMatch(DmaBufAttachment::isAttached));
            ObjectInfo info = f.gpu.info(s.handle());
            assertEquals(Residency.SYSTEM, info.placement());
            assertEquals(1, info.migrations());
            assertEquals(3, info.attachments());
            assertEquals(0, f.live("vram"));
            assertEquals(SIZE, f.live("sysmem"), "one copy: a second target was given back");
            SgTable t = f.imp.mapAttachment(attached.get(1), DmaDataDirection.TO_DEVICE);
            f.dmaCheck(t, PATTERN);
        }
    }
}
