package dmabuf.exporter.v4l2.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.zip.CRC32;

/**
 * The moving test pattern the capture device writes: every byte of frame {@code seq} is a pure function of its offset,
 * the {@link Format} and {@code seq}, so any consumer can recompute what it should have received, byte by byte
 * ({@link #expectedByte}, {@link #firstMismatch}) or as a CRC ({@link #crc32(Format, long)}).
 * <p>
 * The picture scrolls {@value #DX} pixels right and {@value #DY} down per frame over a 32-pixel checkerboard:
 * <ul>
 * <li>RGBA: R = {@code u & 0xFF}, G = {@code v & 0xFF}, B = 0x40 or 0xFF by checker, A = 0xFF, with
 * {@code u = x + seq * DX}, {@code v = y + seq * DY}.</li>
 * <li>NV12: with {@code ramp = ((u + v) & 0xFF) * 219 / 256}, Y = {@code 16 + ramp} on even checker squares and
 * {@code 235 - ramp} on odd ones;
 * each Cb/Cr sample (covering pixels {@code 2cx..2cx+1, 2cy..2cy+1}) has
 * Cb = {@code 16 + (u & 0xFF) * 224 / 256}, Cr = {@code 16 + (v & 0xFF) * 224 / 256} of its top-left pixel.</li>
 * <li>Bytes between the end of a line's pixels and {@code bytesperline} (NV12 padding) are 0.</li>
 * <li>The first {@value #HEADER_BYTES} bytes of the frame are overwritten with {@code seq}, little endian, so a frame
 * names its own sequence number ({@link #sequenceOf}).</li>
 * </ul>
 * Bytes past {@code sizeimage} (the rest of the buffer's last page) are not part of the frame.
 */
public final class TestPattern {
    /** Horizontal movement per frame, in pixels. */
    public static final int DX = 8;
    /** Vertical movement per frame, in pixels. */
    public static final int DY = 4;
    /** The bytes at the start of each frame that hold its sequence number, little endian. */
    public static final int HEADER_BYTES = 8;

    private static final ValueLayout.OfLong SEQUENCE = ValueLayout.JAVA_LONG_UNALIGNED
            .withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestPattern() {
    }

    /**
     * The RGBA pixel at {@code (x, y)} of frame {@code seq}, packed so that its little-endian bytes are R, G, B, A.
     *
     * @return {@code r | g << 8 | b << 16 | a << 24}
     */
    public static int rgba(int x, int y, long seq) {
        int u = x + (int) (seq * DX);
        int v = y + (int) (seq * DY);
        int r = u & 0xFF;
        int g = v & 0xFF;
        int b = checker(u, v) ? 0x40 : 0xFF;
        return r | g << 8 | b << 16 | 0xFF << 24;
    }

    /** The NV12 luma (Y) of pixel {@code (x, y)} of frame {@code seq}, 16..235. */
    public static int luma(int x, int y, long seq) {
        int u = x + (int) (seq * DX);
        int v = y + (int) (seq * DY);
        int ramp = ((u + v) & 0xFF) * 219 >> 8;
        return checker(u, v) ? 16 + ramp : 235 - ramp;
    }

    /** The NV12 Cb of the chroma sample {@code (cx, cy)} (pixels {@code 2cx, 2cy} and their neighbours), 16..239. */
    public static int cb(int cx, int cy, long seq) {
        int u = 2 * cx + (int) (seq * DX);
        return 16 + ((u & 0xFF) * 224 >> 8);
    }

    /** The NV12 Cr of the chroma sample {@code (cx, cy)}, 16..239. */
    public static int cr(int cx, int cy, long seq) {
        int v = 2 * cy + (int) (seq * DY);
        return 16 + ((v & 0xFF) * 224 >> 8);
    }

    private static boolean checker(int u, int v) {
        return (((u >> 5) ^ (v >> 5)) & 1) == 0;
    }

    /**
     * The byte at {@code offset} of frame {@code seq}, header included.
     *
     * @param format the frame's format
     * @param seq    the frame's sequence number
     * @param offset 0 to {@code sizeImage - 1}
     * @return the byte, 0..255
     */
    public static int expectedByte(Format format, long seq, long offset) {
        if (offset < 0 || offset >= format.sizeImage()) {
            throw new IndexOutOfBoundsException("offset " + offset + " is outside a frame of " + format);
        }
        if (offset < HEADER_BYTES) {
            return (int) (seq >>> (8 * offset)) & 0xFF;
        }
        int line = (int) (offset / format.bytesPerLine());
        int col = (int) (offset % format.bytesPerLine());
        return pixelByte(format, seq, line, col);
    }

    /** Byte {@code col} of memory line {@code line}, without the header. */
    private static int pixelByte(Format format, long seq, int line, int col) {
        int width = format.width();
        if (format.pixelFormat() == PixelFormat.RGBA) {
            if (col >= width * 4) {
                return 0;
            }
            return rgba(col >> 2, line, seq) >>> (8 * (col & 3)) & 0xFF;
        }
        if (col >= width) {
            return 0;
        }
        if (line < format.height()) {
            return luma(col, line, seq);
        }
        int cy = line - format.height();
        return (col & 1) == 0 ? cb(col >> 1, cy, seq) : cr(col >> 1, cy, seq);
    }

    /**
     * Writes memory line {@code line} of frame {@code seq} (header not applied) into {@code out}.
     *
     * @param out at least {@code bytesPerLine} bytes
     */
    public static void renderLine(Format format, long seq, int line, byte[] out) {
        int bpl = format.bytesPerLine();
        int width = format.width();
        if (format.pixelFormat() == PixelFormat.RGBA) {
            for (int x = 0; x < width; x++) {
                int p = rgba(x, line, seq);
                int o = x << 2;
                out[o] = (byte) p;
                out[o + 1] = (byte) (p >>> 8);
                out[o + 2] = (byte) (p >>> 16);
                out[o + 3] = (byte) (p >>> 24);
            }
            java.util.Arrays.fill(out, width * 4, bpl, (byte) 0);
            return;
        }
        if (line < format.height()) {
            for (int x = 0; x < width; x++) {
                out[x] = (byte) luma(x, line, seq);
            }
        } else {
            int cy = line - format.height();
            for (int cx = 0; cx < width / 2; cx++) {
                out[2 * cx] = (byte) cb(cx, cy, seq);
                out[2 * cx + 1] = (byte) cr(cx, cy, seq);
            }
        }
        java.util.Arrays.fill(out, width, bpl, (byte) 0);
    }

    /**
     * Writes frame {@code seq} into {@code frame}: {@link Format#sizeImage()} bytes, line by line, then the header.
     *
     * @param frame at least {@code sizeImage} bytes, writable
     */
    public static void fill(MemorySegment frame, Format format, long seq) {
        if (frame.byteSize() < format.sizeImage()) {
            throw new IllegalArgumentException("a frame of " + format + " needs " + format.sizeImage()
                    + " bytes, the segment has " + frame.byteSize());
        }
        int bpl = format.bytesPerLine();
        byte[] line = new byte[bpl];
        for (int l = 0; l < format.lines(); l++) {
            renderLine(format, seq, l, line);
            MemorySegment.copy(line, 0, frame, ValueLayout.JAVA_BYTE, (long) l * bpl, bpl);
        }
        frame.set(SEQUENCE, 0, seq);
    }

    /** Frame {@code seq} as a new array of {@code sizeImage} bytes. */
    public static byte[] render(Format format, long seq) {
        byte[] out = new byte[format.sizeImage()];
        fill(MemorySegment.ofArray(out), format, seq);
        return out;
    }

    /** The sequence number a frame carries in its first {@value #HEADER_BYTES} bytes. */
    public static long sequenceOf(MemorySegment frame) {
        return frame.get(SEQUENCE, 0);
    }

    /** The CRC-32 of frame {@code seq}'s {@code sizeImage} bytes. */
    public static long crc32(Format format, long seq) {
        CRC32 crc = new CRC32();
        crc.update(render(format, seq));
        return crc.getValue();
    }

    /** The CRC-32 of the first {@code sizeImage} bytes of {@code frame}, as received. */
    public static long crc32(MemorySegment frame, Format format) {
        CRC32 crc = new CRC32();
        crc.update(frame.asSlice(0, format.sizeImage()).asByteBuffer());
        return crc.getValue();
    }

    /**
     * Compares a received frame with frame {@code seq}.
     *
     * @param frame at least {@code sizeImage} bytes
     * @return the offset of the first byte that differs, or -1 when all {@code sizeImage} bytes are as expected
     */
    public static long firstMismatch(MemorySegment frame, Format format, long seq) {
        if (frame.byteSize() < format.sizeImage()) {
            return frame.byteSize();
        }
        byte[] expected = render(format, seq);
        long at = MemorySegment.mismatch(MemorySegment.ofArray(expected), 0, expected.length, frame, 0,
                expected.length);
        return at;
    }
}
