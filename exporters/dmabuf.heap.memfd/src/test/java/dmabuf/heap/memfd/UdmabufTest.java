package dmabuf.heap.memfd;

import static dmabuf.heap.memfd.OsFixture.PAGE;
import static dmabuf.heap.memfd.OsFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.udmabuf.Udmabuf;
import dmabuf.api.udmabuf.UdmabufRange;
import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.NativeException;

/** udmabuf: every rule of the kernel's udmabuf_create with its errno, and buffers that share the memfd's pages. */
class UdmabufTest {
    private final List<Integer> fds = new ArrayList<>();

    @BeforeEach
    void linuxOnly() {
        assumeTrue(Libc.available(), "memfds exist only on Linux: " + Libc.unavailableReason());
    }

    @org.junit.jupiter.api.AfterEach
    void closeFds() {
        for (int fd : fds) {
            Libc.close(fd);
        }
    }

    /** A memfd of {@code pages} pages with these seals added. */
    private int memfd(long pages, int seals) {
        int fd = Libc.memfdCreate("udmabuf-test", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        fds.add(fd);
        Libc.ftruncate(fd, pages * PAGE);
        if (seals != 0) {
            Libc.addSeals(fd, seals);
        }
        return fd;
    }

    @Test
    void aBufferSharesTheMemfdsPagesBothWays() {
        try (OsFixture f = new OsFixture()) {
            UdmabufDevice udmabuf = f.udmabuf(Map.of());
            int memfd = memfd(8, Libc.F_SEAL_SHRINK);
            try (MappedRegion mine = MappedRegion.map(new MappedRegion.FileRange(memfd, 0, 8 * PAGE),
                    Libc.PROT_READ | Libc.PROT_WRITE)) {
                mine.segment().set(ValueLayout.JAVA_LONG, 2 * PAGE, 0xABCD_EF01_2345_6789L);
                int fd = udmabuf.create(f.caller, new UdmabufRange(memfd, 2 * PAGE, 4 * PAGE),
                        Udmabuf.UDMABUF_FLAGS_CLOEXEC);
                assertEquals(DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, f.caller.fdinfo(fd).flags());
                DmaBuf buf = f.caller.get(fd);
                assertEquals(4 * PAGE, buf.size());
                assertEquals(UdmabufDevice.EXPORTER, buf.exporterName());
                f.caller.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
                MemorySegment v = f.caller.vmap(buf);
                assertEquals(0xABCD_EF01_2345_6789L, v.get(ValueLayout.JAVA_LONG, 0));
                v.set(ValueLayout.JAVA_INT, PAGE, 0x5EA1ED);
                assertEquals(0x5EA1ED, mine.segment().get(ValueLayout.JAVA_INT, 3 * PAGE));
                // the buffer's writable mapping stops anyone from write-sealing the memfd now
                assertEquals(16, assertThrows(NativeException.class,
                        () -> Libc.addSeals(memfd, Libc.F_SEAL_WRITE)).errno()); // EBUSY
                f.caller.vunmap(buf, v);
                f.caller.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
                // udmabufs have no single file behind them: no OS fd (their dma-buf fd is the kernel's own)
                assertErrno(Errno.EINVAL, () -> f.caller.osFd(buf));
                f.caller.put(buf);
                f.caller.close(fd);
            }
            assertTrue(udmabuf.liveBuffers().isEmpty());
        }
    }

    @Test
    void theListFormJoinsRangesOfSeveralMemfdsAndOutlivesThem() {
        try (OsFixture f = new OsFixture()) {
            UdmabufDevice udmabuf = f.udmabuf(Map.of());
            int a = memfd(4, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW);
            int b = memfd(2, Libc.F_SEAL_SHRINK);
            try (MappedRegion ma = MappedRegion.map(new MappedRegion.FileRange(a, 0, 4 * PAGE), Libc.PROT_READ
                    | Libc.PROT_WRITE);
                    MappedRegion mb = MappedRegion.map(new MappedRegion.FileRange(b, 0, 2 * PAGE), Libc.PROT_READ
                            | Libc.PROT_WRITE)) {
                ma.segment().set(ValueLayout.JAVA_BYTE, 3 * PAGE, (byte) 'A');
                mb.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 'B');
                ma.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 'a');
            }
            int fd = udmabuf.createList(f.caller, List.of(new UdmabufRange(a, 3 * PAGE, PAGE),
                    new UdmabufRange(b, 0, 2 * PAGE), new UdmabufRange(a, 0, PAGE)), 0);
            fds.remove(Integer.valueOf(a));
            fds.remove(Integer.valueOf(b));
            Libc.close(a); // the buffer keeps its own mapping: the caller may close its memfds
            Libc.close(b);
            DmaBuf buf = f.caller.get(fd);
            assertEquals(4 * PAGE, buf.size());
            f.caller.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            MemorySegment v = f.caller.vmap(buf);
            assertEquals('A', v.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals('B', v.get(ValueLayout.JAVA_BYTE, PAGE));
            assertEquals('a', v.get(ValueLayout.JAVA_BYTE, 3 * PAGE));
            MemorySegment last = f.caller.kmap(buf, 3);
            assertEquals('a', last.get(ValueLayout.JAVA_BYTE, 0));
            f.caller.kunmap(buf, 3, last);
            f.caller.vunmap(buf, v);
            f.caller.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            f.caller.put(buf);
            f.caller.close(fd);
            assertEquals(0, OsFixture.mappings("/memfd:udmabuf-test"));
        }
    }

    @Test
    void geometryRulesAreEinval() {
        try (OsFixture f = new OsFixture()) {
            UdmabufDevice udmabuf = f.udmabuf(Map.of("size.limit.mb", 1L, "list.limit", 2));
            int memfd = memfd(512, Libc.F_SEAL_SHRINK);
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(memfd, 100, PAGE), 0));
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(memfd, 0, PAGE + 1), 0));
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(memfd, 0, 0), 0));
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(memfd, -PAGE, PAGE), 0));
            DmaBufException limit = assertErrno(Errno.EINVAL,
                    () -> udmabuf.create(f.caller, new UdmabufRange(memfd, 0, 2L << 20), 0));
            assertTrue(limit.getMessage().contains("size.limit.mb"), limit.getMessage());
            assertErrno(Errno.EINVAL, () -> udmabuf.createList(f.caller, List.of(new UdmabufRange(memfd, 0, 512
                    * 1024), new UdmabufRange(memfd, 512 * 1024, 512 * 1024 + PAGE)), 0)); // the sum is limited
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(memfd, 511 * PAGE,
                    2 * PAGE), 0)); // past the end of the file
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(memfd, 0, PAGE), 0x2));
            assertErrno(Errno.EINVAL, () -> udmabuf.createList(f.caller, List.of(), 0));
            assertErrno(Errno.EINVAL, () -> udmabuf.createList(f.caller,
                    Collections.nCopies(3, new UdmabufRange(memfd, 0, PAGE)), 0));
            int fd = udmabuf.create(f.caller, new UdmabufRange(memfd, 0, 1L << 20), 0); // exactly the limit
            f.caller.close(fd);
            assertTrue(udmabuf.liveBuffers().isEmpty());
        }
    }

    @Test
    void fileRulesAreEbadfdEbadfAndEinval(@TempDir Path dir) throws Exception {
        try (OsFixture f = new OsFixture()) {
            UdmabufDevice udmabuf = f.udmabuf(Map.of());
            Path file = dir.resolve("plain");
            Files.write(file, new byte[(int) PAGE]);
            int plain = Libc.open(file.toString(), Libc.O_RDWR | Libc.O_CLOEXEC);
            fds.add(plain);
            DmaBufException notMemfd = assertErrno(Errno.EBADFD,
                    () -> udmabuf.create(f.caller, new UdmabufRange(plain, 0, PAGE), 0));
            assertTrue(notMemfd.getMessage().contains("not a memfd"), notMemfd.getMessage());
            int closed = Libc.memfdCreate("udmabuf-test", Libc.MFD_CLOEXEC);
            Libc.close(closed);
            assertErrno(Errno.EBADF, () -> udmabuf.create(f.caller, new UdmabufRange(closed, 0, PAGE), 0));
            int unsealed = memfd(1, 0);
            DmaBufException noShrink = assertErrno(Errno.EINVAL,
                    () -> udmabuf.create(f.caller, new UdmabufRange(unsealed, 0, PAGE), 0));
            assertTrue(noShrink.getMessage().contains("F_SEAL_SHRINK"), noShrink.getMessage());
            int growOnly = memfd(1, Libc.F_SEAL_GROW);
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(growOnly, 0, PAGE), 0));
            int writeSealed = memfd(1, Libc.F_SEAL_SHRINK | Libc.F_SEAL_WRITE);
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(writeSealed, 0, PAGE), 0));
            int futureWrite = memfd(1, Libc.F_SEAL_SHRINK | Libc.F_SEAL_FUTURE_WRITE);
            assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(futureWrite, 0, PAGE), 0));
            // a list is refused whole when any of its memfds breaks a rule
            int good = memfd(1, Libc.F_SEAL_SHRINK);
            assertErrno(Errno.EINVAL, () -> udmabuf.createList(f.caller, List.of(new UdmabufRange(good, 0, PAGE),
                    new UdmabufRange(unsealed, 0, PAGE)), 0));
            assertTrue(udmabuf.liveBuffers().isEmpty());
            assertEquals(0, OsFixture.mappings("/memfd:udmabuf-test"));
        }
    }

    /**
     * A seal race: one thread creates and closes udmabufs of a memfd while another keeps trying to write-seal it.
     * Whatever the interleaving, a live udmabuf and a write seal never coexist (the kernel refuses the seal while the
     * buffer's writable mapping exists), and a create that loses the race is EINVAL, never another errno.
     */
    @Test
    void aWriteSealRacingACreateNeverSlipsIn() throws Exception {
        try (OsFixture f = new OsFixture()) {
            UdmabufDevice udmabuf = f.udmabuf(Map.of());
            int memfd = memfd(4, Libc.F_SEAL_SHRINK);
            java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.atomic.AtomicBoolean creating = new java.util.concurrent.atomic.AtomicBoolean(true);
            java.util.concurrent.atomic.AtomicInteger sealAttempts = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicReference<String> sealerFailure =
                    new java.util.concurrent.atomic.AtomicReference<>();
            Thread sealer = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                while (creating.get()) {
                    sealAttempts.incrementAndGet();
                    try {
                        Libc.addSeals(memfd, Libc.F_SEAL_WRITE);
                        return; // sealed: every later create must be EINVAL
                    } catch (NativeException busy) {
                        if (busy.errno() != 16) { // EBUSY: a writable mapping exists; anything else is wrong
                            sealerFailure.set(busy.getMessage());
                            return;
                        }
                    }
                }
            }, "sealer");
            sealer.start();
            int created = 0;
            int refused = 0;
            try {
                for (int i = 0; i < 2000 && (refused == 0 || i < 50); i++) {
                    try {
                        int fd = udmabuf.create(f.caller, new UdmabufRange(memfd, 0, 4 * PAGE), 0);
                        start.countDown(); // the sealer starts against a live buffer, then races the next creates
                        created++;
                        assertEquals(0, Libc.getSeals(memfd) & Libc.F_SEAL_WRITE,
                                "a write seal coexists with a live udmabuf");
                        f.caller.close(fd);
                    } catch (DmaBufException e) {
                        assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
                        refused++;
                    }
                }
            } finally {
                creating.set(false);
                sealer.join(10_000);
            }
            assertEquals(null, sealerFailure.get());
            assertTrue(created > 0, "the first create precedes any seal attempt");
            if ((Libc.getSeals(memfd) & Libc.F_SEAL_WRITE) != 0) {
                assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(memfd, 0, PAGE), 0));
            }
            assertTrue(udmabuf.liveBuffers().isEmpty());
            assertTrue(sealAttempts.get() > 0);
        }
    }

    @Test
    void refusalsLeakNothingAndStopRevokes() {
        try (OsFixture f = new OsFixture()) {
            UdmabufDevice udmabuf = f.udmabuf(Map.of());
            int memfd = memfd(4, Libc.F_SEAL_SHRINK);
            long fdsBefore = OsFixture.openFds();
            for (int i = 0; i < 300; i++) {
                int fd = udmabuf.create(f.caller, new UdmabufRange(memfd, 0, 4 * PAGE), 0);
                f.caller.close(fd);
                assertErrno(Errno.EINVAL, () -> udmabuf.create(f.caller, new UdmabufRange(memfd, 0, 8 * PAGE), 0));
            }
            long fdsGrown = OsFixture.openFds() - fdsBefore; // class loading may open a jar; a leak would be 300+
            assertTrue(fdsGrown < 5, "open fds grew by " + fdsGrown + " over 300 cycles");
            assertEquals(0, OsFixture.mappings("/memfd:udmabuf-test"));
            int held = udmabuf.create(f.caller, new UdmabufRange(memfd, 0, 4 * PAGE), 0);
            DmaBuf buf = f.caller.get(held);
            udmabuf.deactivate();
            assertErrno(Errno.ENODEV, () -> f.caller.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
            assertEquals(0, OsFixture.mappings("/memfd:udmabuf-test"));
            f.caller.put(buf);
            f.caller.close(held);
        }
    }
}
