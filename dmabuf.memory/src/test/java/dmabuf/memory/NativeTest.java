package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.LINUX;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

import dmabuf.memory.mapping.Libc;
import dmabuf.memory.mapping.NativeException;

/** The libc downcalls report failures with the errno they captured and strerror's text. */
class NativeTest {
    private static final String NEEDS_LIBC = "the downcalls exist only on Linux (x86-64, arm64, riscv64)";

    @Test
    void failingCallsCarryErrnoAndStrerrorText() {
        assumeTrue(LINUX, NEEDS_LIBC);
        NativeException badFd = assertThrows(NativeException.class, () -> Libc.close(-1));
        assertEquals(9, badFd.errno());
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
    void memfdRoundTrip() {
        assumeTrue(LINUX, NEEDS_LIBC);
        int fd = Libc.memfdCreate("dmabuf:native-test", Libc.MFD_CLOEXEC);
        try {
            Libc.ftruncate(fd, 8192);
            long a = Libc.mmap(0, 8192, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0);
            Libc.munmap(a, 8192);
        } finally {
            Libc.close(fd);
        }
    }

    @Test
    void strerrorKnowsErrnoNamesAndFallsBack() {
        assertTrue(Libc.strerror(12).contains("[ENOMEM]"));
        assertTrue(Libc.strerror(12).toLowerCase(java.util.Locale.ROOT).contains("memory"));
        assertTrue(Libc.strerror(100_000).contains("100000"), Libc.strerror(100_000));
    }
}
