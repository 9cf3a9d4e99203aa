/**
 * The dma-buf model for drivers: share big buffers between hot-deployable OSGi driver bundles with zero copies.
 *
 * <h2>DOC: the roles</h2>
 * An <em>exporter</em> owns the backing storage of a buffer and implements {@link dmabuf.api.DmaBufOps}.
 * It calls {@link dmabuf.api.DmaBufRegistry#export(ExportInfo)} and gets a {@link dmabuf.api.DmaBuf} holding one
 * reference. It either passes the object to another bundle (which takes its own reference with
 * {@link dmabuf.api.DmaBufRegistry#get(DmaBuf)}, like a file received over {@code SCM_RIGHTS}) or installs a file
 * descriptor with {@link dmabuf.api.DmaBufRegistry#fd(DmaBuf, int)}, which moves its reference into the fd.
 * <p>
 * An <em>importer</em> describes its DMA constraints as a {@link dmabuf.api.Device}, attaches it
 * ({@link dmabuf.api.DmaBufRegistry#attach}), maps the attachment to a scatter-gather table
 * ({@link dmabuf.api.DmaBufRegistry#mapAttachment}) for device access, or touches the bytes from the CPU inside a
 * {@link dmabuf.api.DmaBufRegistry#beginCpuAccess begin}/{@link dmabuf.api.DmaBufRegistry#endCpuAccess end} bracket
 * through {@code kmap}, a refcounted {@code vmap} or {@code mmap}.
 *
 * <h2>DOC: what the core enforces so drivers need not</h2>
 * <ul>
 * <li>The size of a buffer never changes over its life; CPU views never reach past it; a mapping never grows.</li>
 * <li>Mandatory exporter ops ({@code map}, {@code unmap}, {@code release}) and {@code pin}/{@code unpin} pairing are
 * checked at export; an exporter op that is not implemented is refused with {@link dmabuf.api.Errno#EINVAL}.</li>
 * <li>{@code vmap} is refcounted under the buffer's lock: the exporter sees the first vmap and the last vunmap only.</li>
 * <li>{@code release} runs exactly once, after the last reference is gone (or when the exporter revokes the buffer).</li>
 * <li>Every reference, fd, attachment, mapping, vmap and CPU-access bracket is attributed to the bundle that took it;
 * when that bundle stops, the core releases what it still held and reports each item once as a leak.</li>
 * <li>Every CPU view is a {@link java.lang.foreign.MemorySegment} scoped to the buffer: once the buffer is released
 * or revoked, touching a stale view throws {@link java.lang.IllegalStateException}, never reads someone else's data.</li>
 * </ul>
 * Misuse fails with a {@link dmabuf.api.DmaBufException} carrying the errno the Linux kernel returns for it.
 *
 * <h2>DOC: locking</h2>
 * Each buffer has one lock (the reservation lock of the kernel). The core takes it around {@code map},
 * {@code unmap}, {@code pin}, {@code unpin}, {@code vmap} and {@code vunmap} calls to the exporter, and never around
 * {@code attach}, {@code detach}, {@code begin/endCpuAccess}, {@code kmap} or {@code mmap}. Lock waits are bounded;
 * an exporter op that calls back into the core for the same buffer while the core holds its lock fails with
 * {@link dmabuf.api.Errno#EDEADLK} instead of corrupting state.
 *
 * <h2>DOC: real OS file descriptors (1.1)</h2>
 * A buffer whose storage is a real file (a memfd, a kernel dma-buf) can leave the JVM:
 * {@link dmabuf.api.DmaBufRegistry#osFd(DmaBuf, int)} gives a new OS fd for it (a {@code dup}, close-on-exec by
 * default) through the exporter's optional {@link dmabuf.api.DmaBufOps#osFd} op. Buffers of simulated memory have none
 * ({@link dmabuf.api.Errno#EINVAL}).
 */
@Version("1.1.0")
@Export
package dmabuf.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
