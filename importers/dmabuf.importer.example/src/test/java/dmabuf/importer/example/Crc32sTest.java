package dmabuf.importer.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;

/** The sink's CRC over native memory equals java.util.zip.CRC32 over the same bytes copied into an array. */
class Crc32sTest {

    private static long copiedCrc(MemorySegment s) {
        CRC32 crc = new CRC32();
        crc.update(s.toArray(ValueLayout.JAVA_BYTE)); // the copy the sink avoids, for comparison only
        return crc.getValue();
    }

    private static MemorySegment random(Arena arena, long size, long seed) {
        MemorySegment s = arena.allocate(size, 4096);
        byte[] bytes = new byte[(int) size];
        new Random(seed).nextBytes(bytes);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return s;
    }

    @Test
    void crcOfASegmentEqualsCrcOfItsBytesCopiedOut() {
        try (Arena arena = Arena.ofConfined()) {
            for (long size : new long[] { 1, 7, 4096, 4097, 640 * 480 * 4 }) {
                MemorySegment s = random(arena, size, size);
                assertEquals(copiedCrc(s), Crc32s.of(s), "size " + size);
            }
        }
    }

    @Test
    void knownValue() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom("123456789", java.nio.charset.StandardCharsets.US_ASCII);
            // the CRC-32 check value of "123456789" (without the terminating NUL allocateFrom adds)
            assertEquals(0xCBF43926L, Crc32s.of(s.asSlice(0, 9)));
        }
    }

    @Test
    void pageByPageEqualsWhole() {
        try (Arena arena = Arena.ofConfined()) {
            long size = 10 * 4096 + 123;
            MemorySegment s = random(arena, size, 42);
            CRC32 paged = new CRC32();
            for (long off = 0; off < size; off += 4096) {
                Crc32s.update(paged, s.asSlice(off, Math.min(4096, size - off)));
            }
            assertEquals(Crc32s.of(s), paged.getValue());
        }
    }

    @Test
    void chunksLikeTheByteBufferLimitGiveTheSameCrc() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = random(arena, 100_000, 7);
            CRC32 chunked = new CRC32();
            Crc32s.update(chunked, s, 999);
            assertEquals(copiedCrc(s), chunked.getValue());
        }
    }

    @Test
    void readOnlyViewsWork() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = random(arena, 5000, 3);
            assertEquals(copiedCrc(s), Crc32s.of(s.asReadOnly()));
        }
    }

    @Test
    void hexHasEightDigits() {
        assertEquals("0x0000abcd", Crc32s.hex(0xabcd));
        assertEquals("0xcbf43926", Crc32s.hex(0xCBF43926L));
    }

    @Test
    void cleanupUndoesInReverseAndRunsEveryStep() {
        List<String> log = new ArrayList<>();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
            try (Cleanup undo = new Cleanup()) {
                undo.push(() -> log.add("detach"));
                undo.push(() -> {
                    log.add("unmap");
                    throw new IllegalArgumentException("unmap failed");
                });
                undo.push(() -> log.add("end"));
                throw new IllegalStateException("vmap failed");
            }
        });
        assertEquals(List.of("end", "unmap", "detach"), log);
        assertEquals("vmap failed", e.getMessage());
        assertEquals("unmap failed", e.getSuppressed()[0].getMessage());
    }
}
