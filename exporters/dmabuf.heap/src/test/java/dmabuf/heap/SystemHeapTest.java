package dmabuf.heap;

import static dmabuf.heap.HeapFixture.CALLER;
import static dmabuf.heap.HeapFixture.HEAP_BUNDLE;
import static dmabuf.heap.HeapFixture.MIB;
import static dmabuf.heap.HeapFixture.OTHER;
import static dmabuf.heap.HeapFixture.PAGE;
import static dmabuf.heap.HeapFixture.assertErrno;
import static dmabuf.heap.HeapFixture.firstNonZero;
import static dmabuf.heap.HeapFixture.pattern;
import static dmabuf.heap.HeapFixture.writePattern;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.memory.PageRun;
import dmabuf.api.runtime.ExporterDTO;
import dmabuf.memory.MemoryConfig;

/** The system heap against a real core and memory engine: allocation, layout, devices, limits, stop and rename. */
class SystemHeapTest {
    private static final Map<String, Object> SMALL = Map.of("size.mb", 16L);

    private HeapFixture f = new HeapFixture();

    @AfterEach
    void close() {
        f.close();
    }

    /** The heap's ops for the buffer behind one of the caller's fds. */
    private static HeapBufferOps opsOf(HeapDriver heap, DmaBuf buffer) {
        for (HeapBufferOps ops : heap.liveBuffers()) {
            if (ops.buffer() == buffer) {
                return ops;
            }
        }
        throw new AssertionError(buffer + " is not a live buffer of " + heap);
    }

    @Test
    void startRegistersTheHeapItsExporterServiceAndAPrefaultedScatteredPool() {
        SystemHeap heap = f.system(SMALL);
        assertEquals(List.of("system"), f.caller.heaps());
        assertEquals("dma_heap/system", heap.pool().name());
        assertEquals(16 * MIB, heap.pool().capacity());
        assertEquals(16 * MIB, heap.pool().available());
        assertEquals("SCATTERED", f.pool("dma_heap/system").placement);
        assertEquals(HEAP_BUNDLE, f.pool("dma_heap/system").bundleId, "the pool is the heap bundle's");
        assertTrue(heap.pool().highestAddress() > 0xFFFF_FFFFL, "system pages lie anywhere: here above 4 GiB");

        Map<String, Object> service = f.exporterService("heap:system");
        assertNotNull(service, "the heap registers its exporter service: " + f.services);
        assertEquals("dma_heap/system", service.get(DmaBufExporter.DEVICE));
        assertArrayEquals(new String[] {"vmap", "kmap", "mmap"}, (String[]) service.get(DmaBufExporter.CAPABILITIES));
        ExporterDTO[] exporters = f.core.snapshots().runtimeDTO().exporters;
        assertEquals(1, exporters.length, "the core accepted the service");
        assertEquals("heap:system", exporters[0].name);
        assertEquals(HEAP_BUNDLE, f.core.snapshots().runtimeDTO().heaps[0].bundleId);
    }

    @Test
    void anotherBundleGetsAZeroedBufferAndZerosAgainAfterThePagesComeBack() {
        SystemHeap heap = f.system(SMALL);
        long length = 3 * MIB + 100; // the core page-aligns it
        int fd = f.caller.heapAllocate("system", length, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, 0);
        assertEquals(3 * MIB + PAGE, f.caller.llseek(fd, 0, DmaBufUapi.SEEK_END));
        assertEquals("heap:system", f.caller.fdinfo(fd).exporterName());
        assertEquals(1, f.caller.fdinfo(fd).count(), "the heap's reference moved into the caller's fd");

        DmaBuf buffer = f.caller.get(fd);
        HeapBufferOps ops = opsOf(heap, buffer);
        List<PageRun> firstRuns = ops.allocation().runs();
        f.caller.beginCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment view = f.caller.vmap(buffer);
        assertEquals(buffer.size(), view.byteSize());
        assertEquals(-1, firstNonZero(view), "a new heap buffer is zeroed");
        writePattern(view, 1);
        f.caller.vunmap(buffer, view);
        f.caller.endCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);
        assertEquals(1, ops.cpuBegins());
        assertEquals(1, ops.cpuEnds());
        f.caller.put(buffer);
        f.caller.close(fd);
        assertTrue(ops.isReleased(), "closing the only fd released the buffer");
        assertEquals(16 * MIB, heap.pool().available(), "the pages went back to the pool");
        assertTrue(heap.liveBuffers().isEmpty());

        int again = f.caller.heapAllocate("system", length, DmaBufUapi.O_RDWR, 0);
        DmaBuf second = f.caller.get(again);
        HeapBufferOps secondOps = opsOf(heap, second);
        assertEquals(firstRuns, secondOps.allocation().runs(), "the same pages, written before, are handed out again");
        f.caller.beginCpuAccess(second, DmaDataDirection.FROM_DEVICE);
        for (long page = 0; page < second.pageCount(); page++) {
            MemorySegment p = f.caller.kmap(second, page);
            assertEquals(-1, firstNonZero(p), "page " + page + " was zeroed before it was handed out again");
            f.caller.kunmap(second, page, p);
        }
        f.caller.endCpuAccess(second, DmaDataDirection.FROM_DEVICE);
        f.caller.put(second);
        f.caller.close(again);
    }

    @Test
    void severalMibAreScatteredOneMibChunksAndTheDeviceReadsWhatTheCpuWrote() {
        SystemHeap heap = f.system(SMALL);
        int fd = f.caller.heapAllocate("system", 4 * MIB, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        HeapBufferOps ops = opsOf(heap, buffer);
        assertFalse(ops.allocation().isContiguous());
        for (PageRun run : ops.allocation().runs()) {
            assertTrue(run.bytes() <= SystemHeap.MAX_CHUNK, "chunks of at most 1 MiB: " + run);
        }

        f.caller.beginCpuAccess(buffer, DmaDataDirection.TO_DEVICE);
        MemorySegment view = f.caller.vmap(buffer); // the alias of the scattered pages in buffer order
        writePattern(view, 7);
        f.caller.vunmap(buffer, view);
        f.caller.endCpuAccess(buffer, DmaDataDirection.TO_DEVICE);

        DmaBufAttachment att = f.caller.attach(buffer, Device.of("iommu-gpu"));
        SgTable table = f.caller.mapAttachment(att, DmaDataDirection.TO_DEVICE);
        assertTrue(table.nents() > 1, "scattered: " + table);
        assertFalse(table.isContiguous());
        assertEquals(4 * MIB, table.totalLength());
        long offset = 0;
        for (SgTable.Entry e : table.entries()) {
            MemorySegment dma = f.callerMemory.resolve(e.dmaAddress(), e.length()); // the device's DMA
            for (long i = 0; i < e.length(); i += 1021) {
                assertEquals(pattern(offset + i, 7), dma.get(ValueLayout.JAVA_BYTE, i),
                        "byte " + (offset + i) + " as the device sees it");
            }
            offset += e.length();
        }
        SgTable again = f.caller.mapAttachment(att, DmaDataDirection.TO_DEVICE);
        assertFalse(again == table, "a table per map, as the system heap duplicates one per attachment");
        assertEquals(table, again);
        f.caller.unmapAttachment(att, again, DmaDataDirection.TO_DEVICE);
        f.caller.unmapAttachment(att, table, DmaDataDirection.TO_DEVICE);
        f.caller.detach(att);
        f.caller.put(buffer);
        f.caller.close(fd);
        assertEquals(16 * MIB, heap.pool().available());
    }

    @Test
    void mmapAndKmapShowTheSameBytesAsVmap() {
        SystemHeap heap = f.system(SMALL);
        int fd = f.caller.heapAllocate("system", 2 * MIB + 3 * PAGE, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        f.caller.sync(fd, DmaBufUapi.DMA_BUF_SYNC_START | DmaBufUapi.DMA_BUF_SYNC_RW);
        MemorySegment view = f.caller.vmap(buffer);
        writePattern(view, 3);
        try (DmaBufMapping map = f.caller.mmap(fd, MIB, MIB + PAGE, DmaBufUapi.PROT_READ)) {
            for (long i = 0; i < map.length(); i += 509) {
                assertEquals(pattern(MIB + i, 3), map.segment().get(ValueLayout.JAVA_BYTE, i));
            }
        }
        long lastPage = buffer.pageCount() - 1;
        MemorySegment page = f.caller.kmap(buffer, lastPage);
        assertEquals(pattern(lastPage * PAGE + 17, 3), page.get(ValueLayout.JAVA_BYTE, 17));
        f.caller.kunmap(buffer, lastPage, page);
        f.caller.vunmap(buffer, view);
        f.caller.sync(fd, DmaBufUapi.DMA_BUF_SYNC_END | DmaBufUapi.DMA_BUF_SYNC_RW);
        HeapBufferOps ops = opsOf(heap, buffer);
        assertEquals(1, ops.cpuBegins(), "SYNC start reached the heap's begin hook");
        assertEquals(1, ops.cpuEnds(), "SYNC end reached the heap's end hook");
        f.caller.put(buffer);
        f.caller.close(fd);
    }

    @Test
    void aDeviceThatNeedsContiguousMemoryOrLowAddressesIsRefusedWithEbusy() {
        f.system(SMALL);
        int fd = f.caller.heapAllocate("system", 3 * MIB, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        DmaBufException scanout = assertErrno(Errno.EBUSY,
                () -> f.caller.attach(buffer, Device.of("scanout").withContiguous(true)));
        assertTrue(scanout.getMessage().contains("dma-heap 'system'") && scanout.getMessage().contains("scanout")
                && scanout.getMessage().contains("contiguous"), scanout.getMessage());
        DmaBufException low = assertErrno(Errno.EBUSY,
                () -> f.caller.attach(buffer, Device.of("dev32").withDmaMask(Device.DMA_MASK_32)));
        assertTrue(low.getMessage().contains("dev32") && low.getMessage().contains("DMA mask"), low.getMessage());
        DmaBufException few = assertErrno(Errno.EBUSY,
                () -> f.caller.attach(buffer, Device.of("two-segments").withSegmentLimits(MIB, 2)));
        assertTrue(few.getMessage().contains("segments"), few.getMessage());
        assertEquals(0, f.core.snapshots().runtimeDTO().attachments.length, "nothing stayed attached");
        f.caller.attach(buffer, Device.of("iommu-gpu")); // while a device with an IOMMU is fine
        f.caller.put(buffer);
        f.caller.close(fd);
    }

    @Test
    void moreThanTheHeapCanGiveIsEnomemNamingTheHeap() {
        SystemHeap heap = f.system(SMALL);
        DmaBufException big = assertErrno(Errno.ENOMEM,
                () -> f.caller.heapAllocate("system", 17 * MIB, DmaBufUapi.O_RDWR, 0));
        assertTrue(big.getMessage().contains("dma-heap 'system'") && big.getMessage().contains("dma_heap/system"),
                big.getMessage());
        int all = f.caller.heapAllocate("system", 16 * MIB, DmaBufUapi.O_RDWR, 0);
        assertEquals(0, heap.pool().available());
        assertErrno(Errno.ENOMEM, () -> f.other.heapAllocate("system", PAGE, DmaBufUapi.O_RDWR, 0));
        f.caller.close(all);
        f.other.close(f.other.heapAllocate("system", PAGE, DmaBufUapi.O_RDWR, 0)); // room again
        assertEquals(16 * MIB, heap.pool().available());
    }

    @Test
    void theCoresRequestRulesHoldWithThisHeap() {
        SystemHeap heap = f.system(SMALL);
        assertErrno(Errno.EINVAL, () -> f.caller.heapAllocate("system", 0, DmaBufUapi.O_RDWR, 0));
        assertErrno(Errno.EINVAL, () -> f.caller.heapAllocate("system", -1L, DmaBufUapi.O_RDWR, 0)); // wraps to 0
        assertErrno(Errno.EINVAL, () -> f.caller.heapAllocate("system", PAGE, 0x800, 0)); // O_NONBLOCK
        assertErrno(Errno.EINVAL, () -> f.caller.heapAllocate("system", PAGE, DmaBufUapi.O_RDWR, 1));
        assertErrno(Errno.ENOENT, () -> f.caller.heapAllocate("System", PAGE, DmaBufUapi.O_RDWR, 0));
        assertEquals(16 * MIB, heap.pool().available(), "none of them reached the heap");
        assertTrue(heap.liveBuffers().isEmpty());

        int ro = f.caller.heapAllocate("system", PAGE, DmaBufUapi.O_RDONLY, 0);
        assertEquals(DmaBufUapi.O_RDONLY, f.caller.fdinfo(ro).flags(), "the access mode is the caller's");
        assertErrno(Errno.EACCES, () -> f.caller.mmap(ro, 0, PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE));
        f.caller.close(ro);
    }

    @Test
    void theCallerPaysAndOverItsQuotaItIsEnomemNamingIt() {
        f.close();
        f = new HeapFixture(MemoryConfig.DEFAULTS.withQuota("camera.app", 8 * MIB));
        f.system(SMALL);
        int fd = f.caller.heapAllocate("system", 6 * MIB, DmaBufUapi.O_RDWR, 0);
        assertEquals(6 * MIB, f.liveBytes(CALLER), "charged to the caller");
        assertEquals(0, f.liveBytes(HEAP_BUNDLE), "not to the heap, which only reserved the pool");
        assertEquals(16 * MIB, f.bundle(HEAP_BUNDLE).reserved);
        assertEquals(6 * MIB, f.pool("dma_heap/system").live);

        DmaBufException over = assertErrno(Errno.ENOMEM,
                () -> f.caller.heapAllocate("system", 4 * MIB, DmaBufUapi.O_RDWR, 0));
        assertTrue(over.getMessage().contains("camera.app") && over.getMessage().contains("quota")
                && over.getMessage().contains("dma-heap 'system'"), over.getMessage());
        int others = f.other.heapAllocate("system", 4 * MIB, DmaBufUapi.O_RDWR, 0); // display.app has no quota
        assertEquals(4 * MIB, f.liveBytes(OTHER));
        assertEquals(6 * MIB, f.liveBytes(CALLER), "the refused request charged nothing");

        f.caller.close(fd);
        assertEquals(0, f.liveBytes(CALLER), "the release uncharged the caller");
        f.caller.close(f.caller.heapAllocate("system", 8 * MIB, DmaBufUapi.O_RDWR, 0)); // exactly the quota
        f.other.close(others);
    }

    @Test
    void stopRevokesBuffersImportersStillHoldAndClosesThePoolWhole() {
        SystemHeap heap = f.system(SMALL);
        int fd = f.caller.heapAllocate("system", 2 * MIB, DmaBufUapi.O_RDWR, 0);
        int kept = f.other.heapAllocate("system", MIB, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        DmaBufAttachment att = f.caller.attach(buffer, Device.of("iommu-gpu"));
        f.caller.mapAttachment(att, DmaDataDirection.FROM_DEVICE);
        f.caller.beginCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment view = f.caller.vmap(buffer);
        List<HeapBufferOps> live = heap.liveBuffers();
        assertEquals(2, live.size());

        heap.deactivate();

        assertTrue(heap.isStopped());
        assertTrue(live.stream().allMatch(HeapBufferOps::isReleased), "every buffer's release ran");
        assertTrue(heap.liveBuffers().isEmpty());
        assertEquals(List.of(), f.caller.heaps(), "the heap is gone");
        assertNull(f.exporterService("heap:system"), "its exporter service is withdrawn");
        assertNull(f.pool("dma_heap/system"), "the pool is closed");
        assertEquals(List.of(), f.memoryLog.warnings, "the pool had no allocation left open when it closed");
        assertEquals(0, f.liveBytes(CALLER));
        assertEquals(0, f.liveBytes(OTHER));
        assertEquals(2, f.coreLog.infos.stream().filter(m -> m.contains("revoked by its exporter")).count(),
                "the heap revoked both buffers itself before withdrawing its service: " + f.coreLog.infos);

        assertErrno(Errno.ENODEV, () -> f.caller.attach(buffer, Device.of("late")));
        assertErrno(Errno.ENODEV, () -> f.caller.mapAttachment(att, DmaDataDirection.FROM_DEVICE));
        assertErrno(Errno.ENODEV, () -> f.other.mmap(kept, 0, PAGE, DmaBufUapi.PROT_READ));
        assertErrno(Errno.ENODEV, () -> f.caller.vmap(buffer));
        try {
            view.get(ValueLayout.JAVA_BYTE, 0);
            throw new AssertionError("a view of a revoked buffer must not reach memory");
        } catch (IllegalStateException expected) {
            // the core re-scoped the view to the buffer and closed it at the revoke
        }
        assertErrno(Errno.ENOENT, () -> f.caller.heapAllocate("system", PAGE, DmaBufUapi.O_RDWR, 0));
        f.caller.put(buffer); // references stay counted until put
        f.caller.close(fd);
        f.other.close(kept);
        heap.deactivate(); // idempotent
    }

    @Test
    void aNameChangeReRegistersTheHeapAndLiveBuffersStayUsable() {
        SystemHeap heap = f.system(SMALL);
        int fd = f.caller.heapAllocate("system", 2 * MIB, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        long serviceId = f.core.snapshots().runtimeDTO().exporters[0].serviceId;

        heap.modified(HeapFixture.config(SystemHeapConfig.class, Map.of("name", "sys2", "size.mb", 16L)));

        assertEquals("sys2", heap.name());
        assertEquals(List.of("sys2"), f.caller.heaps());
        assertErrno(Errno.ENOENT, () -> f.caller.heapAllocate("system", PAGE, DmaBufUapi.O_RDWR, 0));
        Map<String, Object> service = f.exporterService("heap:sys2");
        assertNotNull(service, "the exporter service follows: " + f.services);
        assertEquals("dma_heap/sys2", service.get(DmaBufExporter.DEVICE));
        ExporterDTO exporter = f.core.snapshots().runtimeDTO().exporters[0];
        assertEquals("heap:sys2", exporter.name);
        assertEquals(serviceId, exporter.serviceId, "the same service, modified in place");
        assertEquals(1, exporter.buffers, "the buffer from before the rename stays bound to it");

        // The old buffer works as before.
        f.caller.beginCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment view = f.caller.vmap(buffer);
        writePattern(view, 5);
        DmaBufAttachment att = f.caller.attach(buffer, Device.of("iommu-gpu"));
        SgTable table = f.caller.mapAttachment(att, DmaDataDirection.TO_DEVICE);
        SgTable.Entry first = table.entries().get(0);
        assertEquals(pattern(100, 5), f.callerMemory.resolve(first.dmaAddress(), first.length())
                .get(ValueLayout.JAVA_BYTE, 100));
        f.caller.unmapAttachment(att, table, DmaDataDirection.TO_DEVICE);
        f.caller.detach(att);
        f.caller.vunmap(buffer, view);
        f.caller.endCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);
        assertEquals("heap:system", f.caller.fdinfo(fd).exporterName(), "a buffer keeps its exporter name");

        // New buffers come from the new name.
        int fresh = f.other.heapAllocate("sys2", MIB, DmaBufUapi.O_RDWR, 0);
        assertEquals("heap:sys2", f.other.fdinfo(fresh).exporterName());
        assertEquals(2, f.core.snapshots().runtimeDTO().exporters[0].buffers);
        assertTrue(f.logger.containing("renamed to 'sys2'").size() == 1, f.logger.infos.toString());

        f.caller.put(buffer);
        f.caller.close(fd);
        f.other.close(fresh);
    }

    @Test
    void aTakenNameIsRefusedAndTheHeapKeepsItsOwn() {
        SystemHeap heap = f.system(SMALL);
        f.other.addHeap("taken", (len, mode, flags, caller) -> {
            throw new DmaBufException(Errno.ENOMEM, "never");
        });
        int fd = f.caller.heapAllocate("system", MIB, DmaBufUapi.O_RDWR, 0);

        heap.modified(HeapFixture.config(SystemHeapConfig.class, Map.of("name", "taken", "size.mb", 16L)));
        assertEquals("system", heap.name());
        assertEquals(List.of("system", "taken"), f.caller.heaps());
        assertNotNull(f.exporterService("heap:system"));
        assertTrue(f.logger.errors.stream().anyMatch(m -> m.contains("'taken'") && m.contains("EINVAL")
                && m.contains("keeps the name 'system'")), f.logger.errors.toString());
        f.caller.close(f.caller.heapAllocate("system", MIB, DmaBufUapi.O_RDWR, 0)); // still allocates

        heap.modified(HeapFixture.config(SystemHeapConfig.class, Map.of("name", "a/b", "size.mb", 16L)));
        assertEquals("system", heap.name(), "a name the core refuses is not applied");
        assertEquals(1, heap.liveBuffers().size(), "no buffer was touched");
        f.caller.close(fd);
    }

    @Test
    void aSizeChangeTakesEffectOnRestartOnly() {
        SystemHeap heap = f.system(SMALL);
        int fd = f.caller.heapAllocate("system", MIB, DmaBufUapi.O_RDWR, 0);
        heap.modified(HeapFixture.config(SystemHeapConfig.class, Map.of("size.mb", 32L)));
        assertEquals(16 * MIB, heap.pool().capacity(), "the running pool stays");
        assertEquals(1, heap.liveBuffers().size());
        assertTrue(f.logger.infos.stream().anyMatch(m -> m.contains("size.mb") && m.contains("takes effect on "
                + "restart")), f.logger.infos.toString());
        f.caller.close(fd);
        heap.deactivate();

        SystemHeap restarted = f.system(Map.of("size.mb", 32L));
        assertEquals(32 * MIB, restarted.pool().capacity(), "the next activation uses the new size");
    }

    @Test
    void aFailedStartLeavesNothingBehind() {
        f.other.addHeap("system", (len, mode, flags, caller) -> {
            throw new DmaBufException(Errno.ENOMEM, "never");
        });
        DmaBufException taken = assertErrno(Errno.EINVAL, () -> f.system(SMALL));
        assertTrue(taken.getMessage().contains("system"), taken.getMessage());
        assertNull(f.pool("dma_heap/system"), "the pool was closed again");
        assertTrue(f.services.isEmpty(), "the exporter service was withdrawn again");

        IllegalArgumentException badName = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> f.system(Map.of("name", "")));
        assertTrue(badName.getMessage().contains(SystemHeap.PID), badName.getMessage());
        IllegalArgumentException badSize = org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class, () -> f.system(Map.of("size.mb", 0L)));
        assertTrue(badSize.getMessage().contains("size.mb"), badSize.getMessage());
        assertEquals(0, f.engine.stats().pools.length);
    }

    @Test
    void whereScatteredPagesCannotBeAliasedVmapIsEopnotsuppAndKmapServes() {
        f.close();
        f = new HeapFixture(MemoryConfig.DEFAULTS, false);
        f.system(SMALL);
        int fd = f.caller.heapAllocate("system", 3 * MIB, DmaBufUapi.O_RDWR, 0);
        DmaBuf buffer = f.caller.get(fd);
        f.caller.beginCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);
        DmaBufException vmap = assertErrno(Errno.EOPNOTSUPP, () -> f.caller.vmap(buffer));
        assertNotNull(vmap.getMessage());
        assertErrno(Errno.EOPNOTSUPP, () -> f.caller.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ));
        for (long page = 0; page < buffer.pageCount(); page += 255) { // the importer falls back to kmap
            MemorySegment p = f.caller.kmap(buffer, page);
            assertEquals(-1, firstNonZero(p));
            p.set(ValueLayout.JAVA_BYTE, 0, (byte) 42);
            f.caller.kunmap(buffer, page, p);
        }
        f.caller.endCpuAccess(buffer, DmaDataDirection.BIDIRECTIONAL);
        DmaBufAttachment att = f.caller.attach(buffer, Device.of("iommu-gpu"));
        SgTable table = f.caller.mapAttachment(att, DmaDataDirection.FROM_DEVICE);
        assertEquals(42, f.callerMemory.resolve(table.entries().get(0).dmaAddress(), 1).get(ValueLayout.JAVA_BYTE, 0));
        f.caller.unmapAttachment(att, table, DmaDataDirection.FROM_DEVICE);
        f.caller.detach(att);
        f.caller.put(buffer);
        f.caller.close(fd);
    }

    @Test
    void theDefaultsAre256MibNamedSystem() {
        SystemHeap heap = f.system(Map.of());
        assertEquals("system", heap.name());
        assertEquals(256 * MIB, heap.pool().capacity());
    }
}
