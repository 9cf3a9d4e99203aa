package dmabuf.exporter.v4l2.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;

/** S_FMT/TRY_FMT arithmetic and its EINVAL rules. */
class FormatTest {

    private static void assertEinval(Executable call) {
        DmaBufException e = assertThrows(DmaBufException.class, call);
        assertEquals(Errno.EINVAL, e.errno(), e::getMessage);
    }

    @Test
    void rgbaIsFourBytesAPixelWithoutPadding() {
        Format f = Format.of(PixelFormat.RGBA, 640, 480);
        assertEquals(2560, f.bytesPerLine());
        assertEquals(2560 * 480, f.sizeImage());
        assertEquals(480, f.lines());
        Format odd = Format.of(PixelFormat.RGBA, 33, 7);
        assertEquals(132, odd.bytesPerLine(), "RGBA takes odd sizes and pads nothing");
        assertEquals(132 * 7, odd.sizeImage());
        Format largest = Format.of(PixelFormat.RGBA, Format.MAX_DIMENSION, Format.MAX_DIMENSION);
        assertEquals(8192 * 4 * 8192, largest.sizeImage(), "the largest frame still fits an int");
    }

    @Test
    void nv12AlignsLinesTo16AndAddsHalfAPlaneOfChroma() {
        Format f = Format.of(PixelFormat.NV12, 640, 480);
        assertEquals(640, f.bytesPerLine());
        assertEquals(640 * 480 * 3 / 2, f.sizeImage());
        assertEquals(720, f.lines());
        Format padded = Format.of(PixelFormat.NV12, 650, 2);
        assertEquals(656, padded.bytesPerLine(), "650 rounded up to a multiple of 16");
        assertEquals(656 * 2 * 3 / 2, padded.sizeImage());
        Format tiny = Format.of(PixelFormat.NV12, 2, 2);
        assertEquals(16, tiny.bytesPerLine());
        assertEquals(48, tiny.sizeImage());
    }

    @Test
    void nv12NeedsEvenWidthAndHeight() {
        assertEinval(() -> Format.of(PixelFormat.NV12, 641, 480));
        assertEinval(() -> Format.of(PixelFormat.NV12, 640, 481));
        assertEinval(() -> Format.of(PixelFormat.NV12, 1, 1));
    }

    @Test
    void zeroNegativeAndOversizeDimensionsAreEinval() {
        for (PixelFormat pf : PixelFormat.values()) {
            assertEinval(() -> Format.of(pf, 0, 480));
            assertEinval(() -> Format.of(pf, 640, 0));
            assertEinval(() -> Format.of(pf, -2, 480));
            assertEinval(() -> Format.of(pf, Format.MAX_DIMENSION + 2, 480));
            assertEinval(() -> Format.of(pf, 640, Format.MAX_DIMENSION + 2));
        }
        assertEinval(() -> Format.of(null, 640, 480));
    }

    @Test
    void fourccCodesAreTheKernels() {
        assertEquals(0x34324241, PixelFormat.RGBA.code(), "v4l2_fourcc('A','B','2','4')");
        assertEquals(0x3231564E, PixelFormat.NV12.code(), "v4l2_fourcc('N','V','1','2')");
        assertEquals(PixelFormat.RGBA, PixelFormat.parse("ab24"));
        assertEquals(PixelFormat.NV12, PixelFormat.parse(" nv12 "));
        assertThrows(IllegalArgumentException.class, () -> PixelFormat.parse("YUYV"));
        assertThrows(IllegalArgumentException.class, () -> PixelFormat.parse(null));
    }
}
