package dmabuf.importer.gpu.api;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.Device;

/**
 * A GPU that imports a dma-buf as a texture and renders it into another dma-buf. Registered as a service with
 * {@link dmabuf.api.DmaBufImporter#NAME} = {@code gpu}. Thread-safe: renders may run concurrently.
 * <p>
 * A render attaches the GPU's {@link #device()} to both buffers, maps them (the source for reading, the target for
 * writing) and checks the sg tables cover the layouts, then runs the per-pixel kernel inside CPU-access brackets:
 * through vmap, or page by page through kmap when an exporter refuses vmap. It writes the target in place and
 * releases everything it took before it returns, on success and failure alike.
 */
@ProviderType
public interface ColourRenderer {

    /** The GPU's device, as it attaches. */
    Device device();

    /**
     * Renders {@code source} into {@code target}: every target pixel is {@link ColourMatrix#xrgbOfYCbCr} (NV12) or
     * {@link ColourMatrix#xrgb} (RGBA) of the source pixel at the same place, exactly as
     * {@link ReferenceTransform#render}. Bytes of the target outside the visible rows and columns are left alone.
     *
     * @return how the buffers were reached
     * @throws DmaBufException {@code EINVAL} when the sizes differ or a buffer is smaller than its layout;
     *     the exporter's errno when it refuses the GPU's device; {@code ENODEV} once the GPU is gone
     */
    RenderResult render(DmaBuf source, Texture texture, DmaBuf target, RenderTarget layout, ColourMatrix matrix);
}
