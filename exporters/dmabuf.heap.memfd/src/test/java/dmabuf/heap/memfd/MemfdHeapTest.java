package dmabuf.heap.memfd;

import static dmabuf.heap.memfd.OsFixture.PAGE;
import static dmabuf.heap.memfd.OsFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;
import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.NativeException;

/** The memfd heap: sealed memfds as dma-bufs, their CPU views and tables, and their real OS fds. */
class MemfdHeapTest {
    private static final int RW_CLOEXEC = DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC;

    @BeforeEach
    void linuxOnly() {
        assumeTrue(Libc.available(), "memfds exist only on Linux: " + Libc.unavailableReason());
    }

    @Test
    void eachBufferIsASealedMemfdWhoseSizeTheKernelKeeps() {
        try (OsFixture f = new OsFixture()) {
            MemfdHeap heap = f.memfdHeap(Map.of());
            assertTrue(heap.isAvailable());
            assertTrue(f.caller.heaps().contains("memfd"));
            int fd = f.caller.heapAllocate("memfd", 3 * PAGE + 1, RW_CLOEXEC, 0);
            DmaBuf buf = f.caller.get(fd);
            assertEquals(4 * PAGE, buf.size());
            assertEquals("heap:memfd", buf.exporterName());
            int os = f.caller.osFd(buf);
            try {
                assertEquals(MemfdHeap.SEALS, Libc.getSeals(os));
                assertEquals(4 * PAGE, Libc.fstat(os).size());
                // a resize through the OS fails: the kernel enforces the size invariance, not this code
                assertEquals(1, assertThrows(NativeException.class, () -> Libc.ftruncate(os, PAGE)).errno());
                assertEquals(1, assertThrows(NativeException.class, () -> Libc.ftruncate(os, 8 * PAGE)).errno());
                assertEquals(1, assertThrows(NativeException.class,
                        () -> Libc.addSeals(os, Libc.F_SEAL_WRITE)).errno());
                assertEquals(4 * PAGE, Libc.fstat(os).size());
            } finally {
                Libc.close(os);
                f.caller.put(buf);
                f.caller.close(fd);
            }
        }
    }

    @Test
    void theOsFdShowsTheSamePagesAsVmapKmapAndMmap() {
        try (OsFixture f = new OsFixture()) {
            f.memfdHeap(Map.of());
            int fd = f.caller.heapAllocate("memfd", 2 * PAGE, RW_CLOEXEC, 0);
            DmaBuf buf = f.caller.get(fd);
            f.caller.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
            MemorySegment vmap = f.caller.vmap(buf);
            MemorySegment page1 = f.caller.kmap(buf, 1);
            DmaBufMapping mmap = f.caller.mmap(fd, PAGE, PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE);
            int os = f.caller.osFd(buf);
            try (MappedRegion native_ = MappedRegion.map(new MappedRegion.FileRange(os, 0, 2 * PAGE),
                    Libc.PROT_READ | Libc.PROT_WRITE)) {
                assertEquals(-1, firstNonZero(native_.segment()), "heap buffers start zeroed");
                vmap.set(ValueLayout.JAVA_LONG, PAGE + 8, 0x1122_3344_5566_7788L);
                assertEquals(0x1122_3344_5566_7788L, native_.segment().get(ValueLayout.JAVA_LONG, PAGE + 8));
                native_.segment().set(ValueLayout.JAVA_INT, PAGE + 64, 0x600D_F00D);
                assertEquals(0x600D_F00D, page1.get(ValueLayout.JAVA_INT, 64));
                assertEquals(0x600D_F00D, mmap.segment().get(ValueLayout.JAVA_INT, 64));
            } finally {
                Libc.close(os);
                mmap.close();
                f.caller.kunmap(buf, 1, page1);
                f.caller.vunmap(buf, vmap);
                f.caller.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
                f.caller.put(buf);
                f.caller.close(fd);
            }
        }
    }

    @Test
    void tablesNameTheMappingAndRefuseDevicesThatCannotReachIt() {
        try (OsFixture f = new OsFixture()) {
            MemfdHeap heap = f.memfdHeap(Map.of());
            int fd = f.caller.heapAllocate("memfd", 16 * PAGE, RW_CLOEXEC, 0);
            DmaBuf buf = f.caller.get(fd);
            long address = heap.liveBuffers().get(0).region().address();
            DmaBufAttachment att = f.caller.attach(buf, Device.of("isp0").withSegmentLimits(4 * PAGE, 8));
            SgTable table = f.caller.mapAttachment(att, DmaDataDirection.FROM_DEVICE);
            assertEquals(4, table.nents());
            assertEquals(16 * PAGE, table.totalLength());
            assertEquals(address, table.entries().get(0).dmaAddress());
            assertTrue(table.isContiguous());
            f.caller.unmapAttachment(att, table, DmaDataDirection.FROM_DEVICE);
            f.caller.detach(att);
            if (address + 16 * PAGE > Device.DMA_MASK_32) { // where the process maps it: above 4 GiB on 64-bit
                assertErrno(Errno.EBUSY, () -> f.caller.attach(buf, Device.of("dma32").withDmaMask(Device.DMA_MASK_32)));
            }
            assertErrno(Errno.EBUSY, () -> f.caller.attach(buf, Device.of("few").withSegmentLimits(PAGE, 2)));
            f.caller.put(buf);
            f.caller.close(fd);
        }
    }

    @Test
    void osFdFlagsAndBuffersWithoutAnOsFd() {
        try (OsFixture f = new OsFixture()) {
            f.memfdHeap(Map.of());
            int fd = f.caller.heapAllocate("memfd", PAGE, RW_CLOEXEC, 0);
            DmaBuf buf = f.caller.get(fd);
            int cloexec = f.caller.osFd(buf);
            int inherited = f.caller.osFd(buf, 0);
            try {
                assertTrue(Libc.isCloseOnExec(cloexec));
                assertFalse(Libc.isCloseOnExec(inherited));
            } finally {
                Libc.close(cloexec);
                Libc.close(inherited);
            }
            assertErrno(Errno.EINVAL, () -> f.caller.osFd(buf, DmaBufUapi.O_RDWR));
            // a bundle that holds nothing of the buffer may not export it
            dmabuf.api.DmaBufRegistry other = f.core.registryFor(f.core.openClient(30, "display.app"));
            assertErrno(Errno.EACCES, () -> other.osFd(buf));
            other.get(buf); // once it holds a reference it may
            int theirs = other.osFd(buf);
            Libc.close(theirs);
            other.put(buf);

            DmaBuf simulated = f.caller.export(ExportInfo.builder(new PlainOps(), PAGE).build());
            DmaBufException e = assertErrno(Errno.EINVAL, () -> f.caller.osFd(simulated));
            assertTrue(e.getMessage().contains("no OS file descriptor"), e.getMessage());
            f.caller.put(simulated);
            f.caller.put(buf);
            f.caller.close(fd);
            assertErrno(Errno.EBADF, () -> f.caller.osFd(buf)); // released
        }
    }

    @Test
    void theLimitIsEnomemAndAppliesAtOnce() {
        try (OsFixture f = new OsFixture()) {
            MemfdHeap heap = f.memfdHeap(Map.of("limit.mb", 1L));
            int fd = f.caller.heapAllocate("memfd", 768 * 1024, RW_CLOEXEC, 0);
            DmaBufException e = assertErrno(Errno.ENOMEM,
                    () -> f.caller.heapAllocate("memfd", 512 * 1024, RW_CLOEXEC, 0));
            assertTrue(e.getMessage().contains("limit.mb"), e.getMessage());
            heap.modified(OsFixture.config(MemfdHeapConfig.class, Map.of("limit.mb", 2L)));
            int second = f.caller.heapAllocate("memfd", 512 * 1024, RW_CLOEXEC, 0);
            f.caller.close(fd);
            f.caller.close(second);
            assertTrue(heap.liveBuffers().isEmpty());
        }
    }

    @Test
    void stoppingRevokesLiveBuffersAndUnmapsThem() {
        try (OsFixture f = new OsFixture()) {
            MemfdHeap heap = f.memfdHeap(Map.of());
            int fd = f.caller.heapAllocate("memfd", PAGE, RW_CLOEXEC, 0);
            DmaBuf buf = f.caller.get(fd);
            f.caller.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            MemorySegment view = f.caller.vmap(buf);
            assertEquals(1, OsFixture.openMemfds("dmabuf-heap:memfd"));
            heap.deactivate();
            assertErrno(Errno.ENODEV, () -> f.caller.osFd(buf));
            assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals(0, OsFixture.openMemfds("dmabuf-heap:memfd"));
            assertEquals(0, OsFixture.mappings("/memfd:dmabuf-heap:memfd"));
            assertFalse(f.caller.heaps().contains("memfd"));
            f.caller.put(buf);
            f.caller.close(fd);
        }
    }

    @Test
    void hundredsOfCyclesLeakNoFdAndNoMapping() {
        try (OsFixture f = new OsFixture()) {
            MemfdHeap heap = f.memfdHeap(Map.of());
            // one warm-up cycle: the first use of each code path may load classes and map jars
            cycle(f);
            long fds = OsFixture.openFds();
            long maps = OsFixture.mappings("");
            for (int i = 0; i < 400; i++) {
                cycle(f);
            }
            assertEquals(0, OsFixture.openMemfds("dmabuf-heap:"));
            assertEquals(0, OsFixture.mappings("/memfd:dmabuf-heap:"));
            // the JVM may open a jar or two meanwhile (class loading); 400 leaked fds would be 400
            long fdsGrown = OsFixture.openFds() - fds;
            assertTrue(fdsGrown < 5, "open fds grew by " + fdsGrown + " over 400 cycles");
            // the JVM itself may map a little (JIT code, thread stacks); 400 leaked buffers would be 400+ lines
            long grown = OsFixture.mappings("") - maps;
            assertTrue(grown < 40, "mappings grew by " + grown + " over 400 cycles");
            assertTrue(heap.liveBuffers().isEmpty());
        }
    }

    /** Allocate, map every way, export to the OS and back, release. */
    private static void cycle(OsFixture f) {
        int fd = f.caller.heapAllocate("memfd", 2 * PAGE, RW_CLOEXEC, 0);
        DmaBuf buf = f.caller.get(fd);
        f.caller.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        MemorySegment v = f.caller.vmap(buf);
        v.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        f.caller.vunmap(buf, v);
        f.caller.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        DmaBufMapping m = f.caller.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ);
        m.close();
        int os = f.caller.osFd(buf);
        Libc.close(os);
        f.caller.put(buf);
        f.caller.close(fd);
    }

    static long firstNonZero(MemorySegment s) {
        for (long i = 0; i < s.byteSize(); i++) {
            if (s.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return i;
            }
        }
        return -1;
    }

    /** An exporter of simulated memory: no OS fd. */
    static final class PlainOps implements DmaBufOps {
        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            return SgTable.contiguous(0x1000_0000L, PAGE);
        }

        @Override
        public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        }

        @Override
        public void release(DmaBuf dmaBuf) {
            assertNotNull(dmaBuf);
        }
    }
}
