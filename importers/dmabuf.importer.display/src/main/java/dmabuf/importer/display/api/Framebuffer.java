package dmabuf.importer.display.api;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;

/**
 * An XRGB8888 framebuffer's layout (DRM_FORMAT_XRGB8888: little-endian words {@code x:R:G:B}, bytes B, G, R, X).
 *
 * @param width  visible pixels per row, at least 1
 * @param height visible rows, at least 1
 * @param pitch  bytes from one row to the next, at least {@code 4 * width}
 */
public record Framebuffer(int width, int height, int pitch) {
    /** @throws DmaBufException {@link Errno#EINVAL} for an impossible layout */
    public Framebuffer {
        if (width < 1 || height < 1 || pitch < 4L * width) {
            throw new DmaBufException(Errno.EINVAL, "an XRGB8888 framebuffer needs a positive size and a pitch of "
                    + "at least 4 * width, not " + width + "x" + height + " pitch " + pitch);
        }
    }

    /** The bytes the framebuffer spans: {@code pitch * height}. */
    public long bytes() {
        return (long) pitch * height;
    }
}
