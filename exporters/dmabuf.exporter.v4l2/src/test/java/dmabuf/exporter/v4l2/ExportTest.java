package dmabuf.exporter.v4l2;

import static dmabuf.exporter.v4l2.Rig.MIB;
import static dmabuf.exporter.v4l2.Rig.assertErrno;
import static dmabuf.exporter.v4l2.Rig.rgba;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.Frame;
import dmabuf.exporter.v4l2.api.PixelFormat;
import dmabuf.exporter.v4l2.api.TestPattern;

/** EXPBUF, and the exported buffers against a real core and memory engine. */
class ExportTest {
    private static final long WAIT_S = 10;
    /** A device that needs the whole buffer in one segment, as a scanout engine without IOMMU. */
    private static final Device CONTIGUOUS_DEVICE = Device.of("isp0").withContiguous(true).withSegmentLimits(
            Long.MAX_VALUE, 1);

    @Test
    void expbufAcceptsOnlyCloexecAndAccessModeBits() {
        try (Rig rig = new Rig()) {
            VideoDevice dev = rig.device;
            assertErrno(Errno.EINVAL, () -> dev.exportBuffer(0, DmaBufUapi.O_RDWR)); // no buffers
            dev.requestBuffers(2);
            assertErrno(Errno.EINVAL, () -> dev.exportBuffer(0, 0x800)); // O_NONBLOCK
            assertErrno(Errno.EINVAL, () -> dev.exportBuffer(0, DmaBufUapi.O_RDWR | 0x40)); // O_CREAT
            assertErrno(Errno.EINVAL, () -> dev.exportBuffer(0, -1));
            assertErrno(Errno.EINVAL, () -> dev.exportBuffer(-1, DmaBufUapi.O_RDWR));
            assertErrno(Errno.EINVAL, () -> dev.exportBuffer(2, DmaBufUapi.O_RDWR));
            assertEquals(0, dev.liveExports(), "nothing was exported by the refused calls");
            assertFalse(dev.queryBuffer(0).exported());
            DmaBuf b = dev.exportBuffer(0, DmaBufUapi.O_CLOEXEC | DmaBufUapi.O_RDWR);
            assertNotNull(b);
            assertNotNull(dev.exportBuffer(1, DmaBufUapi.O_ACCMODE));
            assertTrue(dev.queryBuffer(0).exported());
            assertEquals(2, dev.liveExports());
        }
    }

    @Test
    void theSameBufferExportedTwiceIsTheSameLiveDmaBuf() {
        try (Rig rig = new Rig()) {
            VideoDevice dev = rig.device;
            dev.requestBuffers(2);
            DmaBuf first = dev.exportBuffer(0, DmaBufUapi.O_RDWR);
            assertSame(first, dev.exportBuffer(0, DmaBufUapi.O_RDONLY | DmaBufUapi.O_CLOEXEC));
            assertNotEquals(first.id(), dev.exportBuffer(1, DmaBufUapi.O_RDWR).id());
            assertEquals(8192, first.size(), "sizeimage in whole pages");
            assertEquals(dev.queryBuffer(0).length(), first.size());
            assertEquals("video0", first.exporterName(), "exported under the device's exporter service");
            assertEquals("video0-buf0", first.name().orElseThrow());
            assertEquals(2, dev.liveExports(), "one export per buffer, however often EXPBUF is called");

            // An importer takes its own reference and installs its own fd from the shared object.
            rig.imp.get(first);
            int fd = rig.imp.fd(first, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC);
            assertEquals(8192, rig.imp.llseek(fd, 0, DmaBufUapi.SEEK_END));
            rig.imp.close(fd);

            assertEquals(0, dev.requestBuffers(0));
            assertEquals(2, dev.releases(), "the device's reference was the last: release ran for both");
            assertEquals(2, dev.requestBuffers(2));
            DmaBuf again = dev.exportBuffer(0, DmaBufUapi.O_RDWR);
            assertNotEquals(first.id(), again.id(), "new buffers are new exports");
        }
    }

    @Test
    void theExportedBufferIsPhysicallyContiguousAndRefusesDevicesThatCannotReachIt() {
        try (Rig rig = new Rig(rgba(160, 120), 4 * MIB, 0)) {
            VideoDevice dev = rig.device;
            dev.requestBuffers(2);
            DmaBuf b = dev.exportBuffer(1, DmaBufUapi.O_RDWR);
            rig.imp.get(b);
            DmaBufAttachment att = rig.imp.attach(b, CONTIGUOUS_DEVICE);
            SgTable table = rig.imp.mapAttachment(att, DmaDataDirection.FROM_DEVICE);
            assertEquals(1, table.nents(), "one segment: the pool is contiguous");
            assertTrue(table.isContiguous());
            assertEquals(b.size(), table.totalLength());
            assertEquals(dev.storage(1).allocation().runs().getFirst().physAddress(),
                    table.entries().getFirst().dmaAddress());
            rig.imp.unmapAttachment(att, table, DmaDataDirection.FROM_DEVICE);
            rig.imp.detach(att);

            // The pool lies above 4 GiB (no DMA mask was asked for): a 32-bit device cannot reach it.
            DmaBufException e = assertErrno(Errno.EBUSY,
                    () -> rig.imp.attach(b, Device.of("dma32-engine").withDmaMask(Device.DMA_MASK_32)));
            assertTrue(e.getMessage().contains("video0") && e.getMessage().contains("dma32-engine"), e.getMessage());
            // A device taking one-page segments, one of them, cannot take 19 pages.
            assertErrno(Errno.EBUSY, () -> rig.imp.attach(b, Device.of("tiny-sg").withSegmentLimits(4096, 1)));
            rig.imp.put(b);
        }
    }

    /** One importer's view of an exported buffer: attached, mapped, its table resolved to memory. */
    private record Imported(DmaBuf buf, DmaBufAttachment attachment, SgTable table, MemorySegment dma) {
    }

    @Test
    void anImporterReadsTheGeneratorsFramesThroughItsTableWithoutACopy() {
        Format format = Format.of(PixelFormat.RGBA, 160, 120);
        try (Rig rig = new Rig(format, 4 * MIB, 0)) {
            VideoDevice dev = rig.device;
            assertEquals(3, dev.requestBuffers(3));
            List<Imported> imported = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                DmaBuf b = dev.exportBuffer(i, DmaBufUapi.O_RDWR);
                rig.imp.get(b); // the importer's own reference
                DmaBufAttachment att = rig.imp.attach(b, CONTIGUOUS_DEVICE);
                SgTable table = rig.imp.mapAttachment(att, DmaDataDirection.FROM_DEVICE);
                SgTable.Entry seg = table.entries().getFirst();
                imported.add(new Imported(b, att, table, rig.impMemory.resolve(seg.dmaAddress(), seg.length())));
                dev.queue(i);
            }
            dev.streamOn();
            for (int n = 0; n < 9; n++) {
                Frame f = dev.dequeue(WAIT_S, TimeUnit.SECONDS);
                assertEquals(n, f.sequence());
                Imported in = imported.get(f.index());
                rig.imp.beginCpuAccess(in.buf(), DmaDataDirection.FROM_DEVICE);
                try {
                    // The device's DMA and the importer's DMA see the same memory: the bytes the generator wrote.
                    assertEquals(n, TestPattern.sequenceOf(in.dma()));
                    assertEquals(-1, TestPattern.firstMismatch(in.dma(), format, n), "frame " + n);
                    assertEquals(TestPattern.crc32(format, n), TestPattern.crc32(in.dma(), format));
                    // Zero copy: the CPU views the core hands out are the very memory behind the bus address.
                    MemorySegment vmap = rig.imp.vmap(in.buf());
                    assertEquals(in.dma().address(), vmap.address());
                    rig.imp.vunmap(in.buf(), vmap);
                    MemorySegment page0 = rig.imp.kmap(in.buf(), 0);
                    assertEquals(in.dma().address(), page0.address());
                    assertEquals(n, page0.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
                    rig.imp.kunmap(in.buf(), 0, page0);
                    // mmap of the second page through an fd of the importer's own.
                    int fd = rig.imp.fd(rig.imp.get(in.buf()), DmaBufUapi.O_RDONLY | DmaBufUapi.O_CLOEXEC);
                    try (DmaBufMapping map = rig.imp.mmap(fd, DmaBufUapi.PAGE_SIZE, DmaBufUapi.PAGE_SIZE,
                            DmaBufUapi.PROT_READ)) {
                        assertEquals(in.dma().address() + DmaBufUapi.PAGE_SIZE, map.segment().address());
                        for (int off = 0; off < DmaBufUapi.PAGE_SIZE; off += 97) {
                            assertEquals(TestPattern.expectedByte(format, n, DmaBufUapi.PAGE_SIZE + off),
                                    map.segment().get(ValueLayout.JAVA_BYTE, off) & 0xFF);
                        }
                    } finally {
                        rig.imp.close(fd);
                    }
                } finally {
                    rig.imp.endCpuAccess(in.buf(), DmaDataDirection.FROM_DEVICE);
                }
                dev.queue(f.index());
            }
            dev.streamOff();
            for (int i = 0; i < 3; i++) {
                assertEquals(3, dev.storage(i).cpuBegins(), "the core passed every bracket to the exporter");
                assertEquals(3, dev.storage(i).cpuEnds());
                assertEquals(1, dev.ops(i).mapCalls());
            }
            for (Imported in : imported) {
                rig.imp.unmapAttachment(in.attachment(), in.table(), DmaDataDirection.FROM_DEVICE);
                rig.imp.detach(in.attachment());
                rig.imp.put(in.buf());
            }
            assertEquals(0, dev.releases(), "the device still holds its references");
            assertEquals(0, dev.requestBuffers(0));
            assertEquals(3, dev.releases(), "release ran once per buffer");
            assertEquals(0, dev.liveExports());
            assertEquals(rig.poolCapacity(), rig.poolFree(), "the pool is whole again");
            assertEquals(0, poolStats(rig).live);
            // The freed pages are no DMA target any more.
            long freedAddress = imported.getFirst().table().entries().getFirst().dmaAddress();
            assertErrno(Errno.EFAULT, () -> rig.impMemory.resolve(freedAddress, 8));
        }
    }

    @Test
    void reqbufsZeroOrphansExportedBuffersUntilTheLastImporterPutsThem() {
        try (Rig rig = new Rig()) {
            VideoDevice dev = rig.device;
            dev.setFormat(PixelFormat.RGBA, 512, 256); // two 512 KiB buffers fill the 1 MiB pool
            assertEquals(2, dev.requestBuffers(2));
            DmaBuf a = dev.exportBuffer(0, DmaBufUapi.O_RDWR);
            DmaBuf b = dev.exportBuffer(1, DmaBufUapi.O_RDWR);
            rig.imp.get(a);
            rig.imp.get(b);
            assertEquals(0, dev.requestBuffers(0));
            assertEquals(0, dev.releases(), "the importers still hold them: orphans, not freed");
            assertEquals(2, dev.liveExports());
            assertEquals(0, rig.poolFree());
            assertErrno(Errno.ENOMEM, () -> dev.requestBuffers(1));
            MemorySegment view = rig.imp.vmap(a);
            assertEquals(0, TestPattern.sequenceOf(view), "an orphan is still readable by its importer");
            rig.imp.vunmap(a, view);

            rig.imp.put(a);
            assertEquals(1, dev.releases());
            assertEquals(MIB / 2, rig.poolFree(), "the first orphan's memory is back");
            rig.imp.put(b);
            assertEquals(2, dev.releases(), "release ran once per buffer");
            assertEquals(0, dev.liveExports());
            assertEquals(rig.poolCapacity(), rig.poolFree());
            assertEquals(1, dev.requestBuffers(1));
        }
    }

    @Test
    void closingTheDeviceRevokesWhatImportersStillHoldAndLeavesNoBuffer() {
        try (Rig rig = new Rig(rgba(64, 32), MIB, 0)) {
            VideoDevice dev = rig.device;
            dev.requestBuffers(3);
            DmaBuf attached = dev.exportBuffer(0, DmaBufUapi.O_RDWR);
            DmaBuf orphan = dev.exportBuffer(1, DmaBufUapi.O_RDWR);
            BufferOps attachedOps = dev.ops(0);
            BufferOps orphanOps = dev.ops(1);
            rig.imp.get(attached);
            rig.imp.get(orphan);
            DmaBufAttachment att = rig.imp.attach(attached, CONTIGUOUS_DEVICE);
            SgTable table = rig.imp.mapAttachment(att, DmaDataDirection.FROM_DEVICE);
            assertEquals(0, dev.requestBuffers(0)); // both become orphans held by the importer
            assertEquals(2, dev.requestBuffers(2));
            DmaBuf fresh = dev.exportBuffer(0, DmaBufUapi.O_RDWR);
            BufferOps freshOps = dev.ops(0);
            rig.imp.get(fresh);
            MemorySegment view = rig.imp.vmap(fresh);
            dev.queue(0);
            dev.queue(1); // buffer 1 of the new set is never exported
            dev.streamOn();
            dev.dequeue(WAIT_S, TimeUnit.SECONDS);
            Thread generator = dev.generatorThread();
            assertEquals(3, dev.liveExports());
            assertEquals(0, dev.releases());

            dev.close();

            assertFalse(generator.isAlive(), "the generator thread was stopped and joined");
            assertEquals(3, dev.releases(), "every exported buffer was released: revoked while importers held it");
            for (BufferOps ops : List.of(attachedOps, orphanOps, freshOps)) {
                assertEquals(1, ops.releaseCalls(), "release ran exactly once for " + ops);
                assertTrue(ops.storage().isFreed());
            }
            assertEquals(0, dev.liveExports());
            // The importer sees a revoked buffer: ENODEV, and its views are invalid, not someone else's memory.
            assertErrno(Errno.ENODEV, () -> rig.imp.mapAttachment(att, DmaDataDirection.FROM_DEVICE));
            assertErrno(Errno.ENODEV, () -> rig.imp.vmap(fresh));
            assertErrno(Errno.ENODEV, () -> rig.imp.beginCpuAccess(orphan, DmaDataDirection.FROM_DEVICE));
            assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0));
            // Its teardown still works.
            rig.imp.unmapAttachment(att, table, DmaDataDirection.FROM_DEVICE);
            rig.imp.detach(att);
            rig.imp.put(attached);
            rig.imp.put(orphan);
            rig.imp.put(fresh);
            // No buffer and no pool is left, and the pool was closed with nothing allocated in it.
            for (MemoryStatsDTO.PoolStatsDTO p : rig.engine.stats().pools) {
                assertNotEquals("v4l2-video0", p.name, "the pool was closed");
            }
            assertEquals(List.of(), rig.log.warningsContaining("still open"));
            assertEquals(List.of(), rig.log.errors);
            // Every call now fails with ENODEV; closing again does nothing.
            assertErrno(Errno.ENODEV, () -> dev.queue(0));
            assertErrno(Errno.ENODEV, () -> dev.dequeue(0, TimeUnit.SECONDS));
            assertErrno(Errno.ENODEV, () -> dev.requestBuffers(1));
            assertErrno(Errno.ENODEV, () -> dev.exportBuffer(0, DmaBufUapi.O_RDWR));
            assertErrno(Errno.ENODEV, dev::streamOn);
            assertErrno(Errno.ENODEV, dev::streamOff);
            assertErrno(Errno.ENODEV, dev::format);
            assertErrno(Errno.ENODEV, () -> dev.setFormat(PixelFormat.RGBA, 8, 8));
            assertErrno(Errno.ENODEV, () -> dev.queryBuffer(0));
            dev.close();
        }
    }

    private static MemoryStatsDTO.PoolStatsDTO poolStats(Rig rig) {
        for (MemoryStatsDTO.PoolStatsDTO p : rig.engine.stats().pools) {
            if (p.name.equals("v4l2-video0")) {
                return p;
            }
        }
        throw new AssertionError("no pool v4l2-video0");
    }
}
