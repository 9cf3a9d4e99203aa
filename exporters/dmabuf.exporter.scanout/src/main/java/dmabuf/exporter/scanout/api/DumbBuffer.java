package dmabuf.exporter.scanout.api;

/**
 * A dumb buffer as {@code DRM_IOCTL_MODE_CREATE_DUMB} describes it in {@code struct drm_mode_create_dumb}. The
 * {@code int} fields are the kernel's {@code __u32} values: read them as unsigned (the unsigned accessors do).
 *
 * @param handle the buffer's handle on its device, from 1
 * @param width  the width in pixels, as requested
 * @param height the height in pixels, as requested
 * @param bpp    the bits per pixel, as requested
 * @param pitch  the bytes from one row to the next: {@code DIV_ROUND_UP(bpp, 8) * width}
 * @param size   the buffer's size in bytes: {@code pitch * height} rounded up to whole pages
 */
public record DumbBuffer(int handle, int width, int height, int bpp, int pitch, long size) {

    /** The pitch as the unsigned 32-bit value it is. */
    public long pitchUnsigned() {
        return Integer.toUnsignedLong(pitch);
    }

    /** The width as the unsigned 32-bit value it is. */
    public long widthUnsigned() {
        return Integer.toUnsignedLong(width);
    }

    /** The height as the unsigned 32-bit value it is. */
    public long heightUnsigned() {
        return Integer.toUnsignedLong(height);
    }

    /** The byte offset of pixel {@code (x, y)} in the buffer, for a bpp that is a whole number of bytes. */
    public long offsetOf(long x, long y) {
        return y * pitchUnsigned() + x * ((Integer.toUnsignedLong(bpp) + 7) / 8);
    }
}
