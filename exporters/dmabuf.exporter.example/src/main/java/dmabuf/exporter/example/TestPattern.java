package dmabuf.exporter.example;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The moving test pattern: RGBA pixels (bytes R, G, B, A in memory) that are a pure function of the pixel's position
 * and the frame's sequence number, so every consumer can recompute what it should have received.
 * <p>
 * The picture is a red/green gradient with a blue checkerboard of 32-pixel squares, scrolled by
 * {@value #DX} pixels right and {@value #DY} down per frame: {@code rgba(x, y, seq + 1) == rgba(x + DX, y + DY, seq)}.
 * It repeats every 64 frames (the green gradient's period of 256 rows at 4 rows per frame).
 */
public final class TestPattern {
    /** Horizontal movement per frame, in pixels. */
    public static final int DX = 8;
    /** Vertical movement per frame, in pixels. */
    public static final int DY = 4;
    /** Bytes per pixel. */
    public static final int BYTES_PER_PIXEL = 4;

    /** A pixel as an int whose little-endian bytes are R, G, B, A. */
    private static final ValueLayout.OfInt PIXEL = ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestPattern() {
    }

    /**
     * The pixel at {@code (x, y)} of frame {@code seq}, packed so that its little-endian bytes are R, G, B, A.
     *
     * @param x   the column, from 0
     * @param y   the row, from 0
     * @param seq the frame's sequence number, from 0
     * @return {@code r | g << 8 | b << 16 | a << 24}
     */
    public static int rgba(int x, int y, long seq) {
        // Work in the scrolled coordinates; only their low bits matter, so the products may wrap.
        int u = x + (int) (seq * DX);
        int v = y + (int) (seq * DY);
        int r = u & 0xFF;
        int g = v & 0xFF;
        int b = (((u >> 5) ^ (v >> 5)) & 1) == 0 ? 0x40 : 0xFF;
        int a = 0xFF;
        return r | g << 8 | b << 16 | a << 24;
    }

    /**
     * Writes frame {@code seq} into {@code frame}, row by row.
     *
     * @param frame  at least {@code width * height * 4} bytes, 4-byte aligned
     * @param width  pixels per row
     * @param height rows
     * @param seq    the frame's sequence number
     */
    public static void fill(MemorySegment frame, int width, int height, long seq) {
        long needed = frameBytes(width, height);
        if (frame.byteSize() < needed) {
            throw new IllegalArgumentException("a " + width + "x" + height + " frame needs " + needed
                    + " bytes, the segment has " + frame.byteSize());
        }
        for (int y = 0; y < height; y++) {
            long row = (long) y * width;
            for (int x = 0; x < width; x++) {
                frame.setAtIndex(PIXEL, row + x, rgba(x, y, seq));
            }
        }
    }

    /** The size of a {@code width x height} RGBA frame in bytes. */
    public static long frameBytes(int width, int height) {
        return (long) width * height * BYTES_PER_PIXEL;
    }
}
