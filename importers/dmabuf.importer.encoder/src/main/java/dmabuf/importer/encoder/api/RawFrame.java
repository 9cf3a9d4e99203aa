package dmabuf.importer.encoder.api;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;

/**
 * A raw frame's layout: {@code height} rows of {@code width * bytesPerPixel} visible bytes, {@code pitch} apart.
 *
 * @param width         pixels per row, at least 1
 * @param height        rows, at least 1
 * @param pitch         bytes from one row to the next, at least one row's visible bytes
 * @param bytesPerPixel 1 to 8
 */
public record RawFrame(int width, int height, int pitch, int bytesPerPixel) {
    /** @throws DmaBufException {@link Errno#EINVAL} for an impossible layout */
    public RawFrame {
        if (width < 1 || height < 1 || bytesPerPixel < 1 || bytesPerPixel > 8
                || pitch < (long) width * bytesPerPixel) {
            throw new DmaBufException(Errno.EINVAL, "a raw frame needs a positive size, 1..8 bytes per pixel and "
                    + "a pitch of at least a row, not " + width + "x" + height + "x" + bytesPerPixel + " pitch "
                    + pitch);
        }
    }

    /** The visible bytes: what the encoder compresses. */
    public long visibleBytes() {
        return (long) width * bytesPerPixel * height;
    }

    /** The bytes the frame spans in its buffer. */
    public long span() {
        return (long) pitch * (height - 1) + (long) width * bytesPerPixel;
    }
}
