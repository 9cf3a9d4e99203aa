/**
 * The API of the simulated GPU driver bundle {@code dmabuf.exporter.gpu}: GEM-like buffer objects behind integer
 * handles, PRIME export of an object as a dma-buf, and what the driver knows about each object.
 *
 * <h2>DOC: objects and handles</h2>
 * {@link dmabuf.exporter.gpu.api.Gpu#createObject} makes a buffer object and returns its handle, the lowest free
 * positive int of the device (as GEM's idr); the size is rounded up to whole pages. No memory is allocated yet.
 * {@link dmabuf.exporter.gpu.api.Gpu#closeHandle} closes the handle; the object lives on while a dma-buf exported
 * from it lives. An unknown or closed handle is {@link dmabuf.api.Errno#ENOENT} everywhere.
 *
 * <h2>DOC: PRIME export</h2>
 * {@link dmabuf.exporter.gpu.api.Gpu#primeExport} exports the object with the GPU's own registry, as
 * {@code DRM_IOCTL_PRIME_HANDLE_TO_FD}: flags other than {@link dmabuf.exporter.gpu.api.Gpu#DRM_CLOEXEC} and
 * {@link dmabuf.exporter.gpu.api.Gpu#DRM_RDWR} are {@link dmabuf.api.Errno#EINVAL}; with DRM_RDWR the buffer is
 * exported {@code O_RDWR}, else {@code O_RDONLY}. The dma-buf is cached on the object: exporting again while it lives
 * returns the same {@link dmabuf.api.DmaBuf} (and the access mode of the first export). The GPU holds one reference
 * to it while the handle is open and puts it in {@code closeHandle}; an importer that keeps the buffer takes its own
 * ({@link dmabuf.api.DmaBufRegistry#get(dmabuf.api.DmaBuf)}) or installs an fd from one.
 *
 * <h2>DOC: placement and migration</h2>
 * Storage is chosen at the first use that needs it (a device's map, vmap, kmap, mmap, begin CPU access, or the GPU
 * writing the object), when the attached devices are known: VRAM when every attached device can use the VRAM
 * pages, else system memory (placed below 4 GiB for 32-bit devices). A device attaching later that cannot reach
 * VRAM makes the driver migrate the object to system memory: dynamic importers are told first
 * ({@code invalidateMappings}), the bytes are copied (the one copy this driver makes: the memory itself changes),
 * the VRAM is freed. Migration is refused with {@link dmabuf.api.Errno#EBUSY} (and so is the attach) while the
 * object is pinned, or while anything maps it: a table, a vmap, a kmap, or an mmap (which has no unmap hook, so an
 * mmapped buffer never moves). If CPU views of the VRAM were handed out earlier (a vmap or kmap since undone), the
 * core keeps those views valid until the buffer's release, so that VRAM stays allocated until then instead of
 * being freed at once.
 *
 * <h2>DOC: CPU cache domains</h2>
 * Each object is in the CPU or the GPU domain. A begin of CPU access after the GPU (or a device) wrote the object
 * invalidates the CPU's caches; an end of a CPU access that wrote (TO_DEVICE or BIDIRECTIONAL) flushes them; both are
 * counted in {@link dmabuf.exporter.gpu.api.ObjectInfo}.
 */
@Version("1.0.0")
@Export
package dmabuf.exporter.gpu.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
