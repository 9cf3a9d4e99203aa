package dmabuf.heap;

import static dmabuf.heap.HeapFixture.CALLER;
import static dmabuf.heap.HeapFixture.MIB;
import static dmabuf.heap.HeapFixture.PAGE;
import static dmabuf.heap.HeapFixture.assertErrno;
import static dmabuf.heap.HeapFixture.firstNonZero;
import static dmabuf.heap.HeapFixture.pattern;
import static dmabuf.heap.HeapFixture.writePattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;

/** The CMA heap against a real core and memory engine: one contiguous run per buffer, below 4 GiB. */
class CmaHeapTest {
    private static final Map<String, Object> SMALL = Map.of("size.mb", 8L);
    /** A 32-bit device without an IOMMU: contiguous memory below 4 GiB only. */
    private static final Device DEV32 = Device.of("dev32").withDmaMask(Device.DMA_MASK_32).withContiguous(true);

    private final HeapFixture f = new HeapFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void theDefaultsAre64MibBelow4GibNamedReserved() {
        CmaHeap heap = f.cma(Map.of());
        assertEquals(List.of("reserved"), f.caller.heaps());
        assertEquals(64 * MIB, heap.pool().capacity());
        assertTrue(heap.pool().highestAddress() <= 0xFFFF_FFFFL, "below 4 GiB");
        assertEquals("CONTIGUOUS", f.pool("dma_heap/reserved").placement);
        assertEquals("dma_heap/reserved", f.exporterService("heap:reserved").get("dmabuf.exporter.device"));
    }

    @Test
    void aBufferIsOneContiguousSegmentBelow4GibThatA32BitDeviceReadsZeroCopy() {
        CmaHeap heap = f.cma(SMALL);
        int fd = f.caller.heapAllocate("reserved", 3 * MIB + 5, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        assertEquals(3 * MIB + PAGE, buffer.size());

        f.caller.beginCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment view = f.caller.vmap(buffer);
        assertEquals(-1, firstNonZero(view), "zeroed");
        writePattern(view, 11);
        f.caller.vunmap(buffer, view);
        f.caller.endCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);

        DmaBufAttachment att = f.caller.attach(buffer, DEV32);
        SgTable table = f.caller.mapAttachment(att, DmaDataDirection.TO_DEVICE);
        assertEquals(1, table.nents(), "one contiguous entry: " + table);
        SgTable.Entry e = table.entries().get(0);
        assertEquals(buffer.size(), e.length());
        assertTrue(Long.compareUnsigned(e.dmaAddress() + e.length() - 1, 0xFFFF_FFFFL) <= 0, "below 4 GiB: " + e);
        MemorySegment dma = f.callerMemory.resolve(e.dmaAddress(), e.length());
        for (long i = 0; i < e.length(); i += 997) {
            assertEquals(pattern(i, 11), dma.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " as the device sees it");
        }
        f.caller.unmapAttachment(att, table, DmaDataDirection.TO_DEVICE);
        f.caller.detach(att);
        f.caller.put(buffer);
        f.caller.close(fd);
        assertEquals(8 * MIB, heap.pool().available());
        assertEquals(0, f.liveBytes(CALLER));
    }

    @Test
    void theSame32BitDeviceIsRefusedBySystemHeapBuffers() {
        f.cma(SMALL);
        f.system(Map.of("size.mb", 8L));
        assertEquals(List.of("reserved", "system"), f.caller.heaps());
        int sys = f.caller.heapAllocate("system", 2 * MIB, DmaBufUapi.O_RDWR, 0);
        int cma = f.caller.heapAllocate("reserved", 2 * MIB, DmaBufUapi.O_RDWR, 0);
        DmaBuf sysBuf = f.caller.get(sys);
        DmaBuf cmaBuf = f.caller.get(cma);
        assertErrno(Errno.EBUSY, () -> f.caller.attach(sysBuf, DEV32));
        f.caller.detach(f.caller.attach(cmaBuf, DEV32));
        assertEquals(2, f.core.snapshots().runtimeDTO().exporters.length, "one exporter service per heap");
        f.caller.put(sysBuf);
        f.caller.put(cmaBuf);
        f.caller.close(sys);
        f.caller.close(cma);
    }

    @Test
    void aFragmentedRegionIsEnomemThoughEnoughPagesAreFree() {
        CmaHeap heap = f.cma(SMALL);
        int a = f.caller.heapAllocate("reserved", 2 * MIB, DmaBufUapi.O_RDWR, 0);
        int b = f.caller.heapAllocate("reserved", 2 * MIB, DmaBufUapi.O_RDWR, 0);
        int c = f.caller.heapAllocate("reserved", 2 * MIB, DmaBufUapi.O_RDWR, 0);
        int d = f.caller.heapAllocate("reserved", 2 * MIB, DmaBufUapi.O_RDWR, 0);
        f.caller.close(a);
        f.caller.close(c);
        assertEquals(4 * MIB, heap.pool().available());
        DmaBufException frag = assertErrno(Errno.ENOMEM,
                () -> f.caller.heapAllocate("reserved", 3 * MIB, DmaBufUapi.O_RDWR, 0));
        assertTrue(frag.getMessage().contains("dma-heap 'reserved'") && frag.getMessage().contains("fragmented"),
                frag.getMessage());
        assertEquals(4 * MIB, heap.pool().available(), "the refusal took nothing");
        assertEquals(4 * MIB, f.liveBytes(CALLER), "and charged nothing");
        f.caller.close(f.caller.heapAllocate("reserved", 2 * MIB, DmaBufUapi.O_RDWR, 0)); // a hole fits
        assertErrno(Errno.ENOMEM, () -> f.caller.heapAllocate("reserved", 9 * MIB, DmaBufUapi.O_RDWR, 0));
        f.caller.close(b);
        f.caller.close(d);
    }

    @Test
    void stopRevokesAndTheRegionClosesWhole() {
        CmaHeap heap = f.cma(SMALL);
        int fd = f.caller.heapAllocate("reserved", MIB, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        f.caller.attach(buffer, DEV32);
        heap.deactivate();
        assertErrno(Errno.ENODEV, () -> f.caller.attach(buffer, DEV32));
        assertNull(f.pool("dma_heap/reserved"));
        assertEquals(List.of(), f.memoryLog.warnings);
        f.caller.put(buffer);
        f.caller.close(fd);
    }

    @Test
    void sizeAndMaskChangesTakeEffectOnRestartAndANameChangeAtOnce() {
        CmaHeap heap = f.cma(SMALL);
        int fd = f.caller.heapAllocate("reserved", MIB, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        heap.modified(HeapFixture.config(CmaHeapConfig.class,
                Map.of("name", "cma0", "size.mb", 16L, "dma.mask", "-1")));
        assertEquals(8 * MIB, heap.pool().capacity());
        assertTrue(heap.pool().highestAddress() <= 0xFFFF_FFFFL);
        assertTrue(f.logger.infos.stream().anyMatch(m -> m.contains("size.mb") && m.contains("takes effect on "
                + "restart")), f.logger.infos.toString());
        assertTrue(f.logger.infos.stream().anyMatch(m -> m.contains("dma.mask changed from 0xffffffff to "
                + "0xffffffffffffffff") && m.contains("takes effect on restart")), f.logger.infos.toString());
        assertEquals(List.of("cma0"), f.caller.heaps());
        f.caller.detach(f.caller.attach(buffer, DEV32)); // the live buffer is untouched
        f.caller.put(buffer);
        f.caller.close(fd);
    }

    @Test
    void dmaMaskParsing() {
        assertEquals(0xFFFF_FFFFL, CmaHeap.parseMask("0xFFFFFFFF"));
        assertEquals(0xFFFF_FFFFL, CmaHeap.parseMask("0xFFFF_FFFF"));
        assertEquals(0xFFFF_FFFFL, CmaHeap.parseMask("4294967295"));
        assertEquals(-1L, CmaHeap.parseMask("-1"));
        assertEquals(-1L, CmaHeap.parseMask("0xFFFFFFFFFFFFFFFF"));
        assertEquals(0xFF_FFFFL, CmaHeap.parseMask(" 0xffffff "));
        for (String bad : new String[] {"zz", "", "0x", "0", "0x10000000000000000"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CmaHeap.parseMask(bad),
                    bad);
            assertTrue(e.getMessage().contains(CmaHeap.PID) && e.getMessage().contains("dma.mask"), e.getMessage());
        }
    }

    @Test
    void aRegionThatCannotBePlacedBelowItsMaskFailsTheStartCleanly() {
        // 24-bit mask: 16 MiB of addresses, all below ZONE_DMA32's start
        DmaBufException e = assertErrno(Errno.ENOMEM, () -> f.cma(Map.of("size.mb", 8L, "dma.mask", "0xFFFFFF")));
        assertTrue(e.getMessage().contains("dma_heap/reserved"), e.getMessage());
        assertEquals(List.of(), f.caller.heaps());
        assertTrue(f.services.isEmpty());
    }
}
