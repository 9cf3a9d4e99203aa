package dmabuf.exporter.scanout;

import static dmabuf.exporter.scanout.ScanoutFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;

/**
 * The CREATE_DUMB formula and its checks against values computed by hand from the kernel's drm_mode_create_dumb
 * (32-bit arithmetic, PAGE_SIZE 4096). "No limit" is the largest u32, so only the kernel's own checks apply.
 */
class DumbLayoutTest {
    private static final long NO_LIMIT = 0xFFFF_FFFFL;
    private static final int U32_MAX = 0xFFFF_FFFF;

    private static DumbLayout layout(int w, int h, int bpp) {
        return DumbLayout.compute(w, h, bpp, 0, NO_LIMIT, NO_LIMIT);
    }

    private static DmaBufException einval(int w, int h, int bpp, int flags) {
        return assertErrno(Errno.EINVAL, () -> DumbLayout.compute(w, h, bpp, flags, NO_LIMIT, NO_LIMIT));
    }

    @Test
    void fullHdXrgb8888() {
        DumbLayout l = layout(1920, 1080, 32);
        assertEquals(4, l.cpp());
        assertEquals(7680, l.pitch());
        assertEquals(8_294_400, l.size(), "7680 * 1080 is exactly 2025 pages");
    }

    @Test
    void wxgaRgb888IsPaddedToWholePages() {
        DumbLayout l = layout(1366, 768, 24);
        assertEquals(3, l.cpp());
        assertEquals(4098, l.pitch(), "3 * 1366, not rounded to any alignment");
        // 4098 * 768 = 3,147,264 bytes = 768.375 pages -> 769 pages
        assertEquals(769L * 4096, l.size());
        assertEquals(3_149_824, l.size());
    }

    @Test
    void onePixelOneBitIsOneBytePitchOnePage() {
        DumbLayout l = layout(1, 1, 1);
        assertEquals(1, l.cpp(), "DIV_ROUND_UP(1, 8)");
        assertEquals(1, l.pitch());
        assertEquals(4096, l.size());
    }

    @Test
    void moreHandComputedValues() {
        DumbLayout vga = layout(640, 480, 16);
        assertEquals(1280, vga.pitch());
        assertEquals(614_400, vga.size(), "150 pages exactly");

        DumbLayout twelve = layout(1920, 1080, 12);
        assertEquals(2, twelve.cpp(), "DIV_ROUND_UP(12, 8): bpp is rounded up to whole bytes per pixel");
        assertEquals(3840, twelve.pitch());
        assertEquals(1013L * 4096, twelve.size(), "3840 * 1080 = 4,147,200 = 1012.5 pages");

        DumbLayout uhd = layout(3840, 2160, 32);
        assertEquals(15360, uhd.pitch());
        assertEquals(33_177_600, uhd.size());

        DumbLayout odd = layout(3, 5, 9);
        assertEquals(2, odd.cpp());
        assertEquals(6, odd.pitch());
        assertEquals(4096, odd.size());
    }

    @Test
    void flagsMustBeZero() {
        assertTrue(einval(1920, 1080, 32, 1).getMessage().contains("flags 0x1"));
        einval(1920, 1080, 32, 0x8000_0000);
        einval(1920, 1080, 32, -1);
    }

    @Test
    void zeroWidthHeightOrBppIsEinval() {
        einval(0, 1080, 32, 0);
        einval(1920, 0, 32, 0);
        assertTrue(einval(1920, 1080, 0, 0).getMessage().contains("non-zero"));
    }

    @Test
    void widthTimesCppOverflowingAPitchIsEinval() {
        // width 0xffffffff, cpp 4: 4 > 0xffffffff / 0xffffffff = 1
        DmaBufException e = einval(U32_MAX, 1, 32, 0);
        assertTrue(e.getMessage().contains("overflows a 32-bit pitch"), e.getMessage());
        // The boundary: cpp 4 * 0x40000000 does not fit a pitch; 4 * 0x3fffffff does, but its size wraps when
        // page-aligned; 4 * 0x3ffffc00 = 0xfffff000 fits both.
        assertTrue(einval(0x4000_0000, 1, 32, 0).getMessage().contains("overflows a 32-bit pitch"));
        assertTrue(einval(0x3FFF_FFFF, 1, 32, 0).getMessage().contains("wraps around"));
        assertEquals(0xFFFF_F000L, layout(0x3FFF_FC00, 1, 32).pitch());
    }

    @Test
    void heightTimesPitchOverflowingASizeIsEinval() {
        // pitch 0x40000 (0x10000 pixels of 4 bytes); 0xffffffff / 0x40000 = 0x3fff
        DmaBufException e = einval(0x1_0000, 0x4000, 32, 0);
        assertTrue(e.getMessage().contains("overflows a 32-bit size"), e.getMessage());
        DumbLayout l = layout(0x1_0000, 0x3FFF, 32);
        assertEquals(0xFFFC_0000L, l.size(), "the largest height that fits");
        einval(1, U32_MAX, 32, 0);
    }

    @Test
    void sizeThatWrapsWhenPageAlignedIsEinval() {
        // 0xffffffff bytes: PAGE_ALIGN in 32 bits wraps to 0
        DmaBufException e = einval(U32_MAX, 1, 8, 0);
        assertTrue(e.getMessage().contains("wraps around"), e.getMessage());
        einval(0xFFFF_F001, 1, 8, 0);
        assertEquals(0xFFFF_F000L, layout(0xFFFF_F000, 1, 8).size(), "the largest size that does not wrap");
        assertEquals(0xFFFF_F000L, layout(0xFFFF_EFFF, 1, 8).size(), "rounded up to the last page below 4 GiB");
    }

    @Test
    void bppWhoseByteCountOverflowsIsEinval() {
        einval(1, 1, U32_MAX, 0); // DIV_ROUND_UP wraps to cpp 0
        einval(1, 1, 0xFFFF_FFF9, 0);
        einval(1, 1, 0xFFFF_FFF8, 0); // above U32_MAX - 8
        DumbLayout l = layout(1, 1, 0xFFFF_FFF7);
        assertEquals(0x1FFF_FFFFL, l.cpp(), "the largest bpp: (0xfffffff7 + 7) / 8");
        assertEquals(0x2000_0000L, l.size());
    }

    @Test
    void pitchIsAnUnsigned32BitValue() {
        DumbLayout l = layout(0x8000_0000, 1, 8);
        assertEquals(0x8000_0000L, l.pitch(), "2^31, negative as a Java int");
        assertEquals(0x8000_0000L, l.size());
    }

    @Test
    void theDeviceLimitsApplyAfterTheKernelChecks() {
        DumbLayout ok = DumbLayout.compute(8192, 8192, 32, 0, 8192, 8192);
        assertEquals(32768, ok.pitch());
        assertEquals(256L << 20, ok.size());
        assertTrue(assertErrno(Errno.EINVAL, () -> DumbLayout.compute(8193, 1, 32, 0, 8192, 8192)).getMessage()
                .contains("at most 8192x8192"));
        assertErrno(Errno.EINVAL, () -> DumbLayout.compute(1, 8193, 32, 0, 8192, 8192));
        // An overflow is reported as such even when the width is also above the limit.
        assertTrue(assertErrno(Errno.EINVAL, () -> DumbLayout.compute(U32_MAX, 1, 32, 0, 8192, 8192))
                .getMessage().contains("overflow"));
    }
}
