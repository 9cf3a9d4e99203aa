package dmabuf.exporter.scanout.api;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufUapi;

/**
 * A display scanout device's dumb buffers: simple CPU-rendered framebuffers in contiguous low memory, shared as
 * dma-bufs. The rules and errnos are in the package documentation. Thread-safe.
 * <p>
 * Registered as a service with the property {@link #DEVICE} = the device's name. Only the scanout bundle implements
 * it.
 */
@ProviderType
public interface DumbBufferDevice {
    /** Service property: the device's name, a String, e.g. {@code card0}; equal to its exporter's name. */
    String DEVICE = DmaBufExporter.DEVICE;

    /** PRIME export flag: close-on-exec for the fd (the kernel's {@code DRM_CLOEXEC}, equal to {@code O_CLOEXEC}). */
    int DRM_CLOEXEC = DmaBufUapi.O_CLOEXEC;
    /** PRIME export flag: export for reading and writing (the kernel's {@code DRM_RDWR}, equal to {@code O_RDWR}). */
    int DRM_RDWR = DmaBufUapi.O_RDWR;

    /** The device's name, e.g. {@code card0}; also the name of the exporter its buffers carry. */
    String name();

    /**
     * {@code DRM_IOCTL_MODE_CREATE_DUMB}: allocates a zeroed, physically contiguous framebuffer.
     *
     * @param width  pixels per row, an unsigned 32-bit value, not 0, at most the device's maximum
     * @param height rows, an unsigned 32-bit value, not 0, at most the device's maximum
     * @param bpp    bits per pixel, an unsigned 32-bit value, not 0
     * @param flags  must be 0
     * @return the new buffer: its handle, pitch and size
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EINVAL} for arguments the kernel refuses,
     *         {@link dmabuf.api.Errno#ENOMEM} when the pool has no free contiguous run that long,
     *         {@link dmabuf.api.Errno#ENODEV} once the device stopped
     */
    DumbBuffer createDumb(int width, int height, int bpp, int flags);

    /**
     * {@code DRM_IOCTL_MODE_MAP_DUMB}: the fake offset at which the device file would mmap the buffer.
     *
     * @param handle a live handle ({@link dmabuf.api.Errno#ENOENT} otherwise)
     * @return the offset, page-aligned, stable for the buffer's life
     */
    long mapDumbOffset(int handle);

    /**
     * {@code DRM_IOCTL_MODE_DESTROY_DUMB}: closes the handle and puts the device's reference to its exported dma-buf,
     * if any. The storage is freed once no importer holds the dma-buf any more.
     *
     * @param handle a live handle ({@link dmabuf.api.Errno#ENOENT} otherwise)
     */
    void destroyDumb(int handle);

    /**
     * {@code DRM_IOCTL_PRIME_HANDLE_TO_FD}: the buffer as a dma-buf, exported on first use and cached while it lives.
     * The device holds the returned object's reference; a caller that keeps the buffer takes its own with
     * {@link dmabuf.api.DmaBufRegistry#get(DmaBuf)} (and may then install an fd with
     * {@link dmabuf.api.DmaBufRegistry#fd(DmaBuf, int)}).
     *
     * @param handle a live handle ({@link dmabuf.api.Errno#ENOENT} otherwise)
     * @param flags  {@link #DRM_CLOEXEC} and/or {@link #DRM_RDWR}, nothing else ({@link dmabuf.api.Errno#EINVAL});
     *               without {@code DRM_RDWR} the dma-buf is read-only
     * @return the dma-buf, the same object for every export of the handle while it lives
     */
    DmaBuf exportDumb(int handle, int flags);
}
