/**
 * The dumb-buffer interface of a KMS-like display scanout device, as the DRM ioctls {@code DRM_IOCTL_MODE_CREATE_DUMB},
 * {@code DRM_IOCTL_MODE_MAP_DUMB}, {@code DRM_IOCTL_MODE_DESTROY_DUMB} and {@code DRM_IOCTL_PRIME_HANDLE_TO_FD}.
 *
 * <h2>DOC: the device</h2>
 * Each configured scanout device registers one {@link dmabuf.exporter.scanout.api.DumbBufferDevice} service with the
 * property {@value dmabuf.exporter.scanout.api.DumbBufferDevice#DEVICE} = its name (e.g. {@code card0}), and, before
 * it, a {@link dmabuf.api.DmaBufExporter} service of the same name under which its buffers are exported. Its memory is
 * one CONTIGUOUS pool placed below a 32-bit DMA mask, because a scanout engine without an IOMMU reads a framebuffer
 * as one physically contiguous run of low memory. Every dumb buffer is exactly one run of that pool.
 *
 * <h2>DOC: CREATE_DUMB</h2>
 * The arguments are the kernel's {@code __u32} fields carried in Java {@code int}s and read as unsigned. The checks,
 * in the order of the kernel's {@code drm_mode_create_dumb} and then the driver's, each {@link dmabuf.api.Errno#EINVAL}:
 * flags not 0; width, height or bpp 0; bpp above {@code 0xffffffff - 8}; {@code cpp = DIV_ROUND_UP(bpp, 8)} computed
 * in 32 bits is 0 or above {@code 0xffffffff / width}; {@code stride = cpp * width}; height above
 * {@code 0xffffffff / stride}; {@code size = stride * height} wraps to 0 when page-aligned in 32 bits; width or height
 * above the device's configured maximum. The result: {@code pitch = stride} (a {@code __u32}) and
 * {@code size = PAGE_ALIGN(stride * height)} (a {@code __u64}), allocated zeroed; a pool that has not that much
 * free, or not as one contiguous run (fragmentation), is {@link dmabuf.api.Errno#ENOMEM} with the pool's message.
 * Handles are the lowest free number from 1, device-wide (as one open DRM file), reused after DESTROY_DUMB.
 *
 * <h2>DOC: MAP_DUMB, DESTROY_DUMB and PRIME export</h2>
 * An unknown handle is {@link dmabuf.api.Errno#ENOENT} for all three. MAP_DUMB returns the buffer's fake mmap offset:
 * page-aligned, at or above 4 GiB ({@code DRM_FILE_PAGE_OFFSET_START} on 64-bit), allocated on first use, stable for
 * the buffer's life and never overlapping another buffer's. PRIME export refuses flags other than
 * {@link dmabuf.exporter.scanout.api.DumbBufferDevice#DRM_CLOEXEC} and
 * {@link dmabuf.exporter.scanout.api.DumbBufferDevice#DRM_RDWR} with {@link dmabuf.api.Errno#EINVAL} (checked before
 * the handle). The buffer is exported read-only unless {@code DRM_RDWR} is given, as the kernel does; the first
 * export's access mode sticks, since export is cached: while the dma-buf lives, every export of the handle returns
 * the same {@link dmabuf.api.DmaBuf}. The device holds one reference to it while the handle exists (DESTROY_DUMB puts
 * it); an importer that keeps the buffer takes its own with {@link dmabuf.api.DmaBufRegistry#get(dmabuf.api.DmaBuf)}.
 * The storage is freed when both the handle and the dma-buf are gone.
 *
 * <h2>DOC: the device going away</h2>
 * When the device stops, later calls fail with {@link dmabuf.api.Errno#ENODEV}; every buffer still exported is
 * revoked (importers are told and their views become invalid), every handle is destroyed, and only then is the pool
 * returned to the platform.
 */
@Version("1.0.0")
@Export
package dmabuf.exporter.scanout.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
