package dmabuf.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.ValueLayout;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The libc downcalls: errno capture, memfds and their seals, dup, fstat, shared mappings. */
class LibcTest {
    static final String NEEDS_LIBC = "the downcalls exist only on Linux (x86-64, arm64, riscv64): "
            + Libc.unavailableReason();

    @Test
    void failingCallsCarryErrnoAndStrerrorText() {
        assumeTrue(Libc.available(), NEEDS_LIBC);
        NativeException badFd = assertThrows(NativeException.class, () -> Libc.close(-1));
        assertEquals(9, badFd.errno());
        assertEquals("EBADF", badFd.errnoName());
        assertTrue(badFd.getMessage().contains("Bad file descriptor [EBADF]"), badFd.getMessage());
        NativeException unaligned = assertThrows(NativeException.class, () -> Libc.munmap(1, 4096));
        assertEquals(22, unaligned.errno());
        assertTrue(unaligned.getMessage().startsWith("munmap(0x1, 4096) failed: Invalid argument [EINVAL]"),
                unaligned.getMessage());
        NativeException badMap = assertThrows(NativeException.class,
                () -> Libc.mmap(0, 4096, Libc.PROT_READ, Libc.MAP_SHARED, -1, 0));
        assertEquals(9, badMap.errno(), badMap.getMessage());
    }

    @Test
    void sealsAreEnforcedByTheKernel() {
        assumeTrue(Libc.available(), NEEDS_LIBC);
        int fd = Libc.memfdCreate("dmabuf:seal-test", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        try {
            Libc.ftruncate(fd, 8192);
            assertEquals(0, Libc.getSeals(fd));
            Libc.addSeals(fd, Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_SEAL);
            assertEquals(Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_SEAL, Libc.getSeals(fd));
            assertEquals(1, assertThrows(NativeException.class, () -> Libc.ftruncate(fd, 4096)).errno()); // EPERM
            assertEquals(1, assertThrows(NativeException.class, () -> Libc.ftruncate(fd, 16384)).errno());
            assertEquals(1, assertThrows(NativeException.class, () -> Libc.addSeals(fd, Libc.F_SEAL_WRITE)).errno());
            assertEquals(8192, Libc.fstat(fd).size());
            assertTrue(Libc.fstat(fd).isRegularFile());
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void aFileThatIsNotShmemHasNoSeals() throws Exception {
        assumeTrue(Libc.available(), NEEDS_LIBC);
        int fd = Libc.open("/proc/self/stat", Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            assertEquals(22, assertThrows(NativeException.class, () -> Libc.getSeals(fd)).errno());
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void dupHonoursCloseOnExec() {
        assumeTrue(Libc.available(), NEEDS_LIBC);
        int fd = Libc.memfdCreate("dmabuf:dup-test", 0);
        int withCloexec = Libc.dup(fd, true);
        int without = Libc.dup(fd, false);
        try {
            assertFalse(Libc.isCloseOnExec(fd));
            assertTrue(Libc.isCloseOnExec(withCloexec));
            assertFalse(Libc.isCloseOnExec(without));
        } finally {
            Libc.close(fd);
            Libc.close(withCloexec);
            Libc.close(without);
        }
        assertEquals(9, assertThrows(NativeException.class, () -> Libc.isCloseOnExec(withCloexec)).errno());
    }

    @Test
    @SuppressWarnings("try") // closes a resource early on purpose
    void rangesOfTwoFilesReadAsOneRegionWithoutCopies() {
        assumeTrue(Libc.available(), NEEDS_LIBC);
        int a = Libc.memfdCreate("dmabuf:a", Libc.MFD_CLOEXEC);
        int b = Libc.memfdCreate("dmabuf:b", Libc.MFD_CLOEXEC);
        try {
            Libc.ftruncate(a, 3 * 4096);
            Libc.ftruncate(b, 2 * 4096);
            try (MappedRegion ra = MappedRegion.map(new MappedRegion.FileRange(a, 0, 3 * 4096),
                    Libc.PROT_READ | Libc.PROT_WRITE);
                    MappedRegion rb = MappedRegion.map(new MappedRegion.FileRange(b, 0, 2 * 4096),
                            Libc.PROT_READ | Libc.PROT_WRITE);
                    MappedRegion both = MappedRegion.mapAll(List.of(new MappedRegion.FileRange(a, 4096, 2 * 4096),
                            new MappedRegion.FileRange(b, 0, 4096)), Libc.PROT_READ | Libc.PROT_WRITE)) {
                ra.segment().set(ValueLayout.JAVA_INT, 4096, 0x11111111);
                rb.segment().set(ValueLayout.JAVA_INT, 0, 0x22222222);
                assertEquals(3 * 4096, both.length());
                assertEquals(0x11111111, both.segment().get(ValueLayout.JAVA_INT, 0));
                assertEquals(0x22222222, both.segment().get(ValueLayout.JAVA_INT, 2 * 4096));
                both.segment().set(ValueLayout.JAVA_INT, 2 * 4096 + 8, 0x33333333); // writes reach the file
                assertEquals(0x33333333, rb.segment().get(ValueLayout.JAVA_INT, 8));
                both.close(); // early, on purpose: views must fail after it, and the try's close must be a no-op
                assertTrue(both.isClosed());
                assertThrows(IllegalStateException.class, () -> both.segment().get(ValueLayout.JAVA_INT, 0));
            }
        } finally {
            Libc.close(a);
            Libc.close(b);
        }
    }

    @Test
    void strerrorKnowsErrnoNamesAndFallsBack() {
        assumeTrue(Libc.available(), NEEDS_LIBC);
        assertTrue(Libc.strerror(12).contains("[ENOMEM]"));
        assertTrue(Libc.strerror(12).toLowerCase(java.util.Locale.ROOT).contains("memory"));
        assertTrue(Libc.strerror(100_000).contains("100000"), Libc.strerror(100_000));
    }
}
