package dmabuf.exporter.example;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** The pattern is a pure function of (x, y, seq): every consumer can recompute what it should have received. */
class TestPatternTest {
    private static final int W = 64;
    private static final int H = 48;

    private static byte[] frame(long seq) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(TestPattern.frameBytes(W, H), 4);
            TestPattern.fill(s, W, H, seq);
            return s.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void sameSequenceGivesTheSameBytes() {
        assertArrayEquals(frame(0), frame(0));
        assertArrayEquals(frame(7), frame(7));
        assertArrayEquals(frame(1L << 40), frame(1L << 40), "huge sequence numbers wrap deterministically");
    }

    @Test
    void thePatternMovesFromFrameToFrame() {
        assertFalse(Arrays.equals(frame(0), frame(1)));
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                assertEquals(TestPattern.rgba(x + TestPattern.DX, y + TestPattern.DY, 3), TestPattern.rgba(x, y, 4),
                        "frame n+1 is frame n scrolled by (DX, DY) at " + x + "," + y);
            }
        }
    }

    @Test
    void pixelsAreRgbaBytesInMemoryWithOpaqueAlpha() {
        byte[] f = frame(0);
        // pixel (3, 2) of frame 0: r = 3, g = 2, blue square (0 ^ 0) = 0x40, alpha 0xFF
        int i = (2 * W + 3) * 4;
        assertEquals(3, f[i] & 0xFF);
        assertEquals(2, f[i + 1] & 0xFF);
        assertEquals(0x40, f[i + 2] & 0xFF);
        assertEquals(0xFF, f[i + 3] & 0xFF);
        // pixel (40, 2): the next 32-pixel square is bright blue
        assertEquals(0xFF, f[(2 * W + 40) * 4 + 2] & 0xFF);
        for (int p = 3; p < f.length; p += 4) {
            assertEquals(0xFF, f[p] & 0xFF, "alpha at byte " + p);
        }
    }

    @Test
    void fillRefusesASegmentTooSmallForTheFrame() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment small = arena.allocate(TestPattern.frameBytes(W, H) - 1);
            assertThrows(IllegalArgumentException.class, () -> TestPattern.fill(small, W, H, 0));
        }
    }
}
