package dmabuf.exporter.v4l2.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

/** The pattern is a pure function that consumers can recompute: byte by byte, line by line, or as a CRC. */
class TestPatternTest {
    private static final Format RGBA = Format.of(PixelFormat.RGBA, 40, 6);
    private static final Format NV12 = Format.of(PixelFormat.NV12, 38, 6); // bytesperline 48: 10 bytes of padding

    @Test
    void everyRenderedByteIsTheExpectedByte() {
        for (Format f : new Format[] {RGBA, NV12}) {
            for (long seq : new long[] {0, 1, 77, 1L << 40}) {
                byte[] frame = TestPattern.render(f, seq);
                assertEquals(f.sizeImage(), frame.length);
                for (int off = 0; off < frame.length; off++) {
                    assertEquals(TestPattern.expectedByte(f, seq, off), frame[off] & 0xFF,
                            f + " seq " + seq + " offset " + off);
                }
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> TestPattern.expectedByte(RGBA, 0, RGBA.sizeImage()));
    }

    @Test
    void theFirstEightBytesAreTheSequenceNumberLittleEndian() {
        long seq = 0x0102030405060708L;
        byte[] frame = TestPattern.render(RGBA, seq);
        assertEquals(0x08, frame[0]);
        assertEquals(0x01, frame[7]);
        assertEquals(seq, TestPattern.sequenceOf(MemorySegment.ofArray(frame)));
        assertEquals(TestPattern.rgba(2, 0, seq) & 0xFF, frame[8] & 0xFF, "pixel 2 is pattern again");
    }

    @Test
    void rgbaPixelsAreBytesRgbaInMemory() {
        byte[] frame = TestPattern.render(RGBA, 3);
        int x = 5;
        int y = 4;
        int p = TestPattern.rgba(x, y, 3);
        int at = y * RGBA.bytesPerLine() + 4 * x;
        assertEquals(p & 0xFF, frame[at] & 0xFF, "R");
        assertEquals(p >>> 8 & 0xFF, frame[at + 1] & 0xFF, "G");
        assertEquals(p >>> 16 & 0xFF, frame[at + 2] & 0xFF, "B");
        assertEquals(0xFF, frame[at + 3] & 0xFF, "A");
    }

    @Test
    void nv12HasAYPlaneThenInterleavedChromaAndZeroPadding() {
        long seq = 9;
        byte[] frame = TestPattern.render(NV12, seq);
        int bpl = NV12.bytesPerLine();
        assertEquals(48, bpl);
        for (int y = 0; y < NV12.height(); y++) {
            for (int x = 0; x < bpl; x++) {
                int b = frame[y * bpl + x] & 0xFF;
                if (y == 0 && x < TestPattern.HEADER_BYTES) {
                    continue;
                }
                if (x < NV12.width()) {
                    assertEquals(TestPattern.luma(x, y, seq), b);
                    assertTrue(b >= 16 && b <= 235, "limited-range luma " + b);
                } else {
                    assertEquals(0, b, "padding at " + x + "," + y);
                }
            }
        }
        int uvStart = NV12.height() * bpl;
        for (int cy = 0; cy < NV12.height() / 2; cy++) {
            for (int cx = 0; cx < NV12.width() / 2; cx++) {
                assertEquals(TestPattern.cb(cx, cy, seq), frame[uvStart + cy * bpl + 2 * cx] & 0xFF);
                assertEquals(TestPattern.cr(cx, cy, seq), frame[uvStart + cy * bpl + 2 * cx + 1] & 0xFF);
            }
            assertEquals(0, frame[uvStart + cy * bpl + NV12.width()], "chroma padding");
        }
    }

    @Test
    void thePictureMovesByDxDyPerFrame() {
        for (int y = 0; y < 50; y += 7) {
            for (int x = 0; x < 50; x += 3) {
                assertEquals(TestPattern.rgba(x + TestPattern.DX, y + TestPattern.DY, 4),
                        TestPattern.rgba(x, y, 5));
                assertEquals(TestPattern.luma(x + TestPattern.DX, y + TestPattern.DY, 4),
                        TestPattern.luma(x, y, 5));
            }
        }
        assertNotEquals(TestPattern.rgba(1, 1, 0), TestPattern.rgba(1, 1, 1));
    }

    @Test
    void crcOfAFilledSegmentIsTheExpectedCrcAndAnyChangeIsFound() {
        try (Arena arena = Arena.ofConfined()) {
            for (Format f : new Format[] {RGBA, NV12}) {
                MemorySegment seg = arena.allocate(f.sizeImage() + 100L);
                TestPattern.fill(seg, f, 12);
                assertEquals(TestPattern.crc32(f, 12), TestPattern.crc32(seg, f));
                assertNotEquals(TestPattern.crc32(f, 12), TestPattern.crc32(f, 13));
                assertEquals(-1, TestPattern.firstMismatch(seg, f, 12));
                assertEquals(0, TestPattern.firstMismatch(seg, f, 13), "another sequence differs in the header");
                long at = f.sizeImage() - 1;
                seg.set(ValueLayout.JAVA_BYTE, at, (byte) (seg.get(ValueLayout.JAVA_BYTE, at) ^ 1));
                assertEquals(at, TestPattern.firstMismatch(seg, f, 12));
                assertNotEquals(TestPattern.crc32(f, 12), TestPattern.crc32(seg, f));
            }
            assertThrows(IllegalArgumentException.class,
                    () -> TestPattern.fill(arena.allocate(10), RGBA, 0), "a segment too small");
        }
    }
}
