package dmabuf.importer.encoder.api;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.Device;

/**
 * A memory-to-memory encoder. Registered as a service with {@link dmabuf.api.DmaBufImporter#NAME} = {@code encoder}.
 * Thread-safe: encodes may run concurrently.
 * <p>
 * An encode attaches the encoder's {@link #device()} to the frame, maps it for reading, and compresses the visible
 * rows straight from the exporter's memory inside a CPU-access bracket (vmap, or kmap page by page when vmap is
 * refused). It releases everything before it returns.
 */
@ProviderType
public interface Encoder {

    /** The encoder's device. */
    Device device();

    /**
     * Compresses a frame.
     *
     * @param frame    the raw frame
     * @param layout   its layout
     * @param sequence its number, echoed in the result
     * @return the zlib stream of the visible rows
     * @throws DmaBufException {@code EINVAL} when the buffer is smaller than the layout; the exporter's errno when
     *     it refuses the encoder's device; {@code ENODEV} once the encoder is gone
     */
    EncodedFrame encode(DmaBuf frame, RawFrame layout, long sequence);
}
