package dmabuf.exporter.gpu.api;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;

/**
 * One simulated GPU, registered as a service by the {@code dmabuf.exporter.gpu} bundle for each configuration of
 * factory PID {@value #PID}, together with its {@link dmabuf.api.DmaBufExporter} service (same object, same
 * properties: filter on {@code dmabuf.exporter.name} to pick a device). See the package documentation for the rules.
 * Every refusal is a {@link dmabuf.api.DmaBufException} with the errno the kernel's DRM code returns. Thread-safe.
 */
@ProviderType
public interface Gpu {
    /** The factory configuration PID of GPU devices. */
    String PID = "dmabuf.exporter.gpu";

    /** PRIME flag: close the fd on exec; the value of {@code DRM_CLOEXEC}, which is {@code O_CLOEXEC}. */
    int DRM_CLOEXEC = DmaBufUapi.O_CLOEXEC;
    /** PRIME flag: export for reading and writing; the value of {@code DRM_RDWR}, which is {@code O_RDWR}. */
    int DRM_RDWR = DmaBufUapi.O_RDWR;

    /** The device's name, also its {@code dmabuf.exporter.name}. */
    String name();

    /**
     * Creates a buffer object ({@code DRM_IOCTL_MODE_CREATE_DUMB}/{@code GEM_CREATE}); no memory is allocated until
     * the object is first used.
     *
     * @param size the size in bytes, positive; rounded up to whole pages
     * @return the handle, the lowest free positive int
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EINVAL} for a size that is not positive or wraps
     *         when page-aligned; {@link dmabuf.api.Errno#ENOMEM} for a size neither pool could ever hold;
     *         {@link dmabuf.api.Errno#ENODEV} once the device is stopping
     */
    int createObject(long size);

    /**
     * Closes a handle ({@code DRM_IOCTL_GEM_CLOSE}): the GPU puts its reference to the object's dma-buf, if one was
     * exported; the storage is freed when that dma-buf is released too (at once when none was exported).
     *
     * @param handle an open handle; anything else is {@link dmabuf.api.Errno#ENOENT}
     */
    void closeHandle(int handle);

    /**
     * Exports the object as a dma-buf ({@code DRM_IOCTL_PRIME_HANDLE_TO_FD}) with the GPU's own registry. While the
     * dma-buf lives, exporting again returns the same {@link DmaBuf}. The GPU holds one reference while the handle
     * is open; a caller that keeps the buffer takes its own.
     *
     * @param handle an open handle, else {@link dmabuf.api.Errno#ENOENT}
     * @param flags  {@link #DRM_CLOEXEC} and/or {@link #DRM_RDWR}, or 0; any other bit is
     *               {@link dmabuf.api.Errno#EINVAL}. Without DRM_RDWR the buffer is read-only
     * @return the buffer
     */
    DmaBuf primeExport(int handle, int flags);

    /**
     * The GPU's blitter fills {@code [offset, offset + length)} of the object with {@code value}: storage is placed if
     * it was not, and the object moves to the GPU domain with GPU writes pending (the next begin of CPU access
     * invalidates).
     *
     * @param handle an open handle, else {@link dmabuf.api.Errno#ENOENT}
     * @param offset the first byte, within the object
     * @param length the bytes, positive, within the object ({@link dmabuf.api.Errno#EINVAL} otherwise)
     * @param value  the byte to write
     */
    void gpuFill(int handle, long offset, long length, byte value);

    /**
     * What the driver knows about an object.
     *
     * @param handle an open handle, else {@link dmabuf.api.Errno#ENOENT}
     * @return a snapshot
     */
    ObjectInfo info(int handle);

    /** The two pools, a snapshot. */
    MemoryInfo memory();
}
