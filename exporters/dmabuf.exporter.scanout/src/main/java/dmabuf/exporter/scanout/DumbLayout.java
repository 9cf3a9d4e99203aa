package dmabuf.exporter.scanout;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;

/**
 * The pitch and size of a dumb buffer, computed and checked as the kernel's {@code drm_mode_create_dumb} does in
 * 32-bit arithmetic, then against the device's limits as its {@code dumb_create} does. Every argument is a
 * {@code __u32} read as unsigned and held in a {@code long}; every intermediate value stays below 2^32 exactly where
 * the kernel's does.
 *
 * @param width  pixels per row
 * @param height rows
 * @param bpp    bits per pixel
 * @param cpp    bytes per pixel: {@code DIV_ROUND_UP(bpp, 8)}
 * @param pitch  bytes per row: {@code cpp * width}, below 2^32
 * @param size   {@code PAGE_ALIGN(pitch * height)}, positive and below 2^32
 */
record DumbLayout(long width, long height, long bpp, long cpp, long pitch, long size) {

    /** {@code U32_MAX}. */
    static final long U32_MAX = 0xFFFF_FFFFL;

    /**
     * Checks the arguments of CREATE_DUMB and computes the layout.
     *
     * @param width     the requested width, a {@code __u32}
     * @param height    the requested height, a {@code __u32}
     * @param bpp       the requested bits per pixel, a {@code __u32}
     * @param flags     the request's flags, a {@code __u32}
     * @param maxWidth  the device's largest width
     * @param maxHeight the device's largest height
     * @return the layout
     * @throws DmaBufException {@link Errno#EINVAL} naming the rule that refused the request
     */
    static DumbLayout compute(int width, int height, int bpp, int flags, long maxWidth, long maxHeight) {
        long w = Integer.toUnsignedLong(width);
        long h = Integer.toUnsignedLong(height);
        long b = Integer.toUnsignedLong(bpp);
        String what = "CREATE_DUMB " + w + "x" + h + "x" + b;
        if (flags != 0) {
            throw einval(String.format("%s: flags 0x%x must be 0 (no flag is defined)", what,
                    Integer.toUnsignedLong(flags)));
        }
        if (w == 0 || h == 0 || b == 0) {
            throw einval(what + ": width, height and bpp must all be non-zero");
        }
        // Overflow checks for the 32-bit size calculation, in the kernel's order.
        if (b > U32_MAX - 8) {
            throw einval(what + ": bpp overflows DIV_ROUND_UP(bpp, 8) in 32 bits");
        }
        long cpp = ((b + 7) & U32_MAX) / 8; // DIV_ROUND_UP in u32: 0 if bpp + 7 wrapped
        if (cpp == 0 || cpp > U32_MAX / w) {
            throw einval(what + ": cpp " + cpp + " * width " + w + " overflows a 32-bit pitch");
        }
        long stride = cpp * w;
        if (h > U32_MAX / stride) {
            throw einval(what + ": pitch " + stride + " * height " + h + " overflows a 32-bit size");
        }
        long size = stride * h;
        long aligned = (size + DmaBufUapi.PAGE_SIZE - 1) & U32_MAX & -(long) DmaBufUapi.PAGE_SIZE;
        if (aligned == 0) {
            throw einval(what + ": size " + size + " wraps around (overflow) when aligned to whole pages in 32 "
                    + "bits");
        }
        if (w > maxWidth || h > maxHeight) {
            throw einval(what + ": the device scans out at most " + maxWidth + "x" + maxHeight);
        }
        return new DumbLayout(w, h, b, cpp, stride, aligned);
    }

    private static DmaBufException einval(String message) {
        return new DmaBufException(Errno.EINVAL, message);
    }
}
