package dmabuf.importer.gpu.api;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;

/**
 * How a source dma-buf's bytes are laid out.
 *
 * @param format the pixel format
 * @param width  pixels per row, at least 1 (even for NV12)
 * @param height rows, at least 1 (even for NV12)
 * @param pitch  bytes from one row to the next (the same for both NV12 planes), at least one row of pixels
 */
public record Texture(SourceFormat format, int width, int height, int pitch) {
    /** @throws DmaBufException {@link Errno#EINVAL} for a layout that cannot be sampled, saying why */
    public Texture {
        if (format == null || width < 1 || height < 1) {
            throw new DmaBufException(Errno.EINVAL, "a texture needs a format and a positive size, not " + format
                    + " " + width + "x" + height);
        }
        if (format == SourceFormat.NV12 && ((width | height) & 1) != 0) {
            throw new DmaBufException(Errno.EINVAL, "an NV12 texture needs an even width and height, not " + width
                    + "x" + height);
        }
        long row = format == SourceFormat.NV12 ? width : 4L * width;
        if (pitch < row) {
            throw new DmaBufException(Errno.EINVAL, "texture pitch " + pitch + " is shorter than a row of " + width
                    + " " + format + " pixels (" + row + " bytes)");
        }
    }

    /** The bytes the texture spans: NV12 {@code pitch * height * 3 / 2}, RGBA {@code pitch * height}. */
    public long bytes() {
        return format == SourceFormat.NV12 ? (long) pitch * height * 3 / 2 : (long) pitch * height;
    }
}
