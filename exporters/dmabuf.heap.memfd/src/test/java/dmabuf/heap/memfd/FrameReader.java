package dmabuf.heap.memfd;

import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.CRC32;

import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.UnixSocket;

/**
 * The second-JVM stand-in for a native process (where no C compiler exists), with the protocol of
 * {@code frame_reader.c}: connect to the socket path, receive one fd, map it, print {@code size=<n> crc=<hex>}, then
 * write {@code SEEN} into the last 4 bytes.
 */
public final class FrameReader {
    private FrameReader() {
    }

    /**
     * @param args the socket path
     */
    public static void main(String[] args) {
        try (UnixSocket socket = UnixSocket.connect(Path.of(args[0]))) {
            int fd = socket.receiveFd(Duration.ofSeconds(20));
            long size = Libc.fstat(fd).size();
            try (MappedRegion frame = MappedRegion.map(new MappedRegion.FileRange(fd, 0, size),
                    Libc.PROT_READ | Libc.PROT_WRITE)) {
                CRC32 crc = new CRC32();
                crc.update(frame.segment().asByteBuffer());
                System.out.printf("size=%d crc=%08x%n", size, crc.getValue());
                byte[] seen = "SEEN".getBytes(StandardCharsets.US_ASCII);
                java.lang.foreign.MemorySegment.copy(seen, 0, frame.segment(), ValueLayout.JAVA_BYTE, size - 4, 4);
            } finally {
                Libc.close(fd);
            }
        }
    }
}
