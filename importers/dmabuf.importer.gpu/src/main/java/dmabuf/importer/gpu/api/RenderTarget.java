package dmabuf.importer.gpu.api;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;

/**
 * An XRGB8888 framebuffer's layout: 32-bit little-endian words {@code x:R:G:B}, i.e. bytes B, G, R, X in memory,
 * with X written as 0xFF.
 *
 * @param width  pixels per row, at least 1
 * @param height rows, at least 1
 * @param pitch  bytes from one row to the next, at least {@code 4 * width}
 */
public record RenderTarget(int width, int height, int pitch) {
    /** @throws DmaBufException {@link Errno#EINVAL} for an impossible layout */
    public RenderTarget {
        if (width < 1 || height < 1 || pitch < 4L * width) {
            throw new DmaBufException(Errno.EINVAL, "an XRGB8888 target needs a positive size and a pitch of at "
                    + "least 4 * width, not " + width + "x" + height + " pitch " + pitch);
        }
    }

    /** The bytes the target spans: {@code pitch * height}. */
    public long bytes() {
        return (long) pitch * height;
    }
}
