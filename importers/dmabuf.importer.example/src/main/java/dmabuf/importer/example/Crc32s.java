package dmabuf.importer.example;

import java.lang.foreign.MemorySegment;
import java.util.zip.CRC32;

/**
 * CRC-32 over native memory without copying it: {@link CRC32#update(java.nio.ByteBuffer)} on a direct buffer that
 * {@link MemorySegment#asByteBuffer()} wraps around the segment reads the bytes in place.
 */
final class Crc32s {
    /** The most bytes one ByteBuffer can wrap. */
    static final long MAX_CHUNK = Integer.MAX_VALUE - 7;

    private Crc32s() {
    }

    /** The CRC-32 of every byte of the segment. */
    static long of(MemorySegment segment) {
        CRC32 crc = new CRC32();
        update(crc, segment);
        return crc.getValue();
    }

    /** Adds the segment's bytes, in order, to {@code crc}. */
    static void update(CRC32 crc, MemorySegment segment) {
        update(crc, segment, MAX_CHUNK);
    }

    /** As {@link #update(CRC32, MemorySegment)}, in slices of at most {@code chunk} bytes (a ByteBuffer's limit). */
    static void update(CRC32 crc, MemorySegment segment, long chunk) {
        long size = segment.byteSize();
        for (long offset = 0; offset < size; offset += chunk) {
            crc.update(segment.asSlice(offset, Math.min(chunk, size - offset)).asByteBuffer());
        }
    }

    /** {@code 0x} and eight hex digits. */
    static String hex(long crc) {
        return String.format("0x%08x", crc);
    }
}
