package dmabuf.os;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fds travel over Unix sockets as SCM_RIGHTS: the receiver's fd is another fd for the same file. */
class UnixSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    @Test
    void anFdSentOverASocketPairShowsTheSameMemory() {
        assumeTrue(Libc.available(), LibcTest.NEEDS_LIBC);
        UnixSocket[] pair = UnixSocket.pair();
        int memfd = Libc.memfdCreate("dmabuf:send-test", Libc.MFD_CLOEXEC);
        int received = -1;
        try (UnixSocket left = pair[0]; UnixSocket right = pair[1]) {
            Libc.ftruncate(memfd, 4096);
            left.sendFd(memfd);
            received = right.receiveFd(WAIT);
            assertNotEquals(memfd, received);
            assertTrue(Libc.isCloseOnExec(received));
            try (MappedRegion mine = MappedRegion.map(new MappedRegion.FileRange(memfd, 0, 4096),
                    Libc.PROT_READ | Libc.PROT_WRITE);
                    MappedRegion theirs = MappedRegion.map(new MappedRegion.FileRange(received, 0, 4096),
                            Libc.PROT_READ)) {
                mine.segment().set(ValueLayout.JAVA_LONG, 64, 0x0123_4567_89AB_CDEFL);
                assertEquals(0x0123_4567_89AB_CDEFL, theirs.segment().get(ValueLayout.JAVA_LONG, 64));
            }
            left.send(new byte[] {1, 2, 3});
            byte[] got = new byte[8];
            assertEquals(3, right.receive(got, WAIT));
            assertEquals(3, got[2]);
        } finally {
            Libc.close(memfd);
            if (received >= 0) {
                Libc.close(received);
            }
        }
    }

    @Test
    void waitsAreBoundedAndAListenerAcceptsAtItsPath(@TempDir Path dir) {
        assumeTrue(Libc.available(), LibcTest.NEEDS_LIBC);
        Path path = dir.resolve("s");
        try (UnixSocket.Listener listener = UnixSocket.listen(path)) {
            assertEquals(110, assertThrows(NativeException.class,
                    () -> listener.accept(Duration.ofMillis(20))).errno());
            try (UnixSocket client = UnixSocket.connect(path); UnixSocket server = listener.accept(WAIT)) {
                assertEquals(110, assertThrows(NativeException.class,
                        () -> server.receiveFd(Duration.ofMillis(20))).errno());
                client.send(new byte[] {7});
                assertEquals(5, assertThrows(NativeException.class, () -> server.receiveFd(WAIT)).errno());
            }
        }
        assertTrue(Files.notExists(path));
        assertEquals(2, assertThrows(NativeException.class, () -> UnixSocket.connect(path)).errno()); // ENOENT: gone
    }
}
