package dmabuf.importer.display.api;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.Device;

/**
 * A display controller (a KMS crtc with one primary plane). Registered as a service with
 * {@link dmabuf.api.DmaBufImporter#NAME} = {@code display} and {@link dmabuf.api.DmaBufImporter#DEVICE} = its name.
 * Thread-safe; calls are serialized and wait a bounded time for each other.
 * <p>
 * While a framebuffer is on screen the display holds it, as KMS does: a reference, its attachment and its mapping.
 * The next flip (or {@link #disable()}) gives the previous one back; stopping the display gives everything back.
 */
@ProviderType
public interface Display {

    /** The display's device: contiguous memory within its DMA mask. */
    Device device();

    /**
     * Checks that the display could scan out {@code fb} ({@code DRM_MODE_ATOMIC_TEST_ONLY}): attaches, maps and lets
     * go, changing nothing on screen.
     *
     * @throws DmaBufException as {@link #pageFlip}
     */
    void check(DmaBuf fb, Framebuffer layout);

    /**
     * Puts {@code fb} on screen, computes the CRC-32 of its visible frame, and gives back the framebuffer shown before.
     *
     * @return the frame's CRC and the flip's number
     * @throws DmaBufException the exporter's errno (e.g. EBUSY, EINVAL) with a message naming the display when the
     *     buffer is not scan-out capable for this device (not contiguous, outside the DMA mask); {@code EINVAL} when
     *     the buffer is smaller than the layout; {@code ENODEV} once the display is gone; {@code ETIMEDOUT} when
     *     another call holds the display too long. On failure the previous framebuffer stays on screen.
     */
    ScanoutResult pageFlip(DmaBuf fb, Framebuffer layout);

    /**
     * Writes the frame on screen as a PNG (RGB, 8 bits per channel), off the frame path.
     *
     * @throws DmaBufException {@code EINVAL} when nothing is on screen; {@code EIO} when the file cannot be written
     */
    void writeSnapshot(Path png);

    /** Takes the framebuffer off screen and gives it back; idempotent. */
    void disable();

    /** Flips so far. */
    long flips();
}
