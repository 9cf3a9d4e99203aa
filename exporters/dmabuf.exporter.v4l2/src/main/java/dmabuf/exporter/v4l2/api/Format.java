package dmabuf.exporter.v4l2.api;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;

/**
 * A capture format, as the kernel's {@code struct v4l2_pix_format} after {@code VIDIOC_S_FMT}: what the application
 * asked for and the layout the device computed.
 *
 * @param pixelFormat  the pixel format
 * @param width        pixels per line
 * @param height       lines
 * @param bytesPerLine bytes from the start of one line to the next ({@code bytesperline})
 * @param sizeImage    bytes of one frame ({@code sizeimage}); a buffer is this rounded up to whole pages
 */
public record Format(PixelFormat pixelFormat, int width, int height, int bytesPerLine, int sizeImage) {

    /** The largest width or height the device takes. */
    public static final int MAX_DIMENSION = 8192;
    /** NV12 lines are padded to a multiple of this many bytes. */
    public static final int NV12_LINE_ALIGN = 16;

    /**
     * Computes a format ({@code VIDIOC_TRY_FMT}): RGBA {@code bytesperline = width * 4},
     * {@code sizeimage = bytesperline * height}; NV12 {@code bytesperline = align(width, 16)},
     * {@code sizeimage = bytesperline * height * 3 / 2}.
     *
     * @param pixelFormat the pixel format, not null
     * @param width       1 to {@link #MAX_DIMENSION}; even for NV12
     * @param height      1 to {@link #MAX_DIMENSION}; even for NV12
     * @return the format
     * @throws DmaBufException {@link Errno#EINVAL} for a null format, a size of 0, negative or above
     *         {@link #MAX_DIMENSION}, or an odd NV12 width or height (4:2:0 chroma covers 2x2 pixels)
     */
    public static Format of(PixelFormat pixelFormat, int width, int height) {
        if (pixelFormat == null) {
            throw new DmaBufException(Errno.EINVAL, "S_FMT/TRY_FMT needs a pixel format (RGBA or NV12), not null");
        }
        if (width < 1 || width > MAX_DIMENSION || height < 1 || height > MAX_DIMENSION) {
            throw new DmaBufException(Errno.EINVAL, "S_FMT/TRY_FMT " + pixelFormat + " " + width + "x" + height
                    + ": width and height must be 1.." + MAX_DIMENSION);
        }
        return switch (pixelFormat) {
            case RGBA -> new Format(pixelFormat, width, height, width * 4, width * 4 * height);
            case NV12 -> {
                if ((width & 1) != 0 || (height & 1) != 0) {
                    throw new DmaBufException(Errno.EINVAL, "S_FMT/TRY_FMT NV12 " + width + "x" + height
                            + ": width and height must be even (each chroma sample covers 2x2 pixels)");
                }
                int bpl = (width + NV12_LINE_ALIGN - 1) & -NV12_LINE_ALIGN;
                yield new Format(pixelFormat, width, height, bpl, bpl * height / 2 * 3);
            }
        };
    }

    /** The number of lines in memory: {@code height} for RGBA, {@code height * 3 / 2} (Y then CbCr) for NV12. */
    public int lines() {
        return pixelFormat == PixelFormat.NV12 ? height + height / 2 : height;
    }

    @Override
    public String toString() {
        return pixelFormat + " " + width + "x" + height + " (bytesperline " + bytesPerLine + ", sizeimage "
                + sizeImage + ")";
    }
}
