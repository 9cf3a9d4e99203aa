package dmabuf.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The exporter SPI, as the kernel's {@code struct dma_buf_ops}: what an exporter does for the core.
 * <p>
 * <b>Mandatory</b>: {@link #map}, {@link #unmap} and {@link #release}. <b>Optional</b>: everything with a default.
 * The core looks at which optional methods the exporter's class overrides once, at export, and treats a method it
 * does not override as a missing op (as a NULL pointer in {@code dma_buf_ops}): {@code vmap}, {@code kmap} and
 * {@code mmap} on an exporter without them are {@link Errno#EINVAL}; {@code attach}, {@code detach} and the CPU
 * access hooks are then no-ops; {@link #pin} and {@link #unpin} must be both overridden or neither (an exporter with
 * them is <em>dynamic</em>: it may move storage and tells importers first).
 * <p>
 * One instance per buffer is the natural way to keep an exporter's private per-buffer state (the kernel's
 * {@code dmabuf->priv}). The core calls {@code map}, {@code unmap}, {@code pin}, {@code unpin}, {@code vmap} and
 * {@code vunmap} with the buffer's lock held and the rest without it; an op that calls back into the core for the
 * same buffer from a locked op gets {@link Errno#EDEADLK}. An op refuses with a {@link DmaBufException} carrying its
 * errno; any other exception is treated as a driver bug, reported against the exporter's bundle and turned into
 * {@link Errno#EIO}.
 * <p>
 * <b>Storage lifetime</b>: the exporter must keep the storage alive until {@link #release} has run for the buffer.
 * CPU views it returns are re-scoped by the core to the buffer, so importers can never touch them after release; the
 * exporter may reuse the memory for its next buffer as soon as release returns.
 */
@ConsumerType
public interface DmaBufOps {

    /**
     * Maps the buffer for an attached device ({@code map_dma_buf}).
     *
     * @param attachment the attachment, with the device whose constraints the table must meet
     * @param direction  the direction the importer asked for
     * @return the table; it must cover the whole buffer and meet the device's constraints
     */
    SgTable map(DmaBufAttachment attachment, DmaDataDirection direction);

    /**
     * Unmaps a table {@link #map} returned ({@code unmap_dma_buf}).
     *
     * @param attachment the attachment the table was mapped for
     * @param table      the very table map returned
     * @param direction  the direction the importer passes to unmap
     */
    void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction);

    /**
     * The last reference is gone, or the buffer was revoked: free or recycle the storage. Called exactly once per
     * buffer, after every attachment was detached and every vmap undone.
     *
     * @param dmaBuf the buffer being released
     */
    void release(DmaBuf dmaBuf);

    /**
     * A device attaches; refuse it with a {@link DmaBufException} (typically {@link Errno#EBUSY}) if the storage
     * cannot meet its constraints. Optional.
     *
     * @param dmaBuf     the buffer
     * @param attachment the new attachment, not yet linked
     */
    default void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
    }

    /**
     * A device detached; its tables were already unmapped. Optional.
     *
     * @param dmaBuf     the buffer
     * @param attachment the attachment, already unlinked
     */
    default void detach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
    }

    /**
     * Pins the storage where it is for an importer that cannot be told to move ({@code pin}). Optional, but only
     * together with {@link #unpin}.
     *
     * @param attachment the attachment to pin for
     */
    default void pin(DmaBufAttachment attachment) {
        throw new DmaBufException(Errno.EOPNOTSUPP, "this exporter has no pin op");
    }

    /**
     * Undoes one {@link #pin}. Optional, but only together with {@link #pin}.
     *
     * @param attachment the attachment to unpin
     */
    default void unpin(DmaBufAttachment attachment) {
        throw new DmaBufException(Errno.EOPNOTSUPP, "this exporter has no unpin op");
    }

    /**
     * The CPU is about to access {@code [offset, offset + length)}: make the bytes coherent for it (invalidate caches
     * after device writes). The whole buffer when the importer gave no range. Optional.
     *
     * @param dmaBuf    the buffer
     * @param direction the direction of the access, as the importer gave it
     * @param offset    the first byte of the range
     * @param length    the length of the range, positive
     */
    default void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
    }

    /**
     * The CPU is done with {@code [offset, offset + length)}: flush what it wrote for devices. Optional.
     *
     * @param dmaBuf    the buffer
     * @param direction the direction of the access, as the importer gave it
     * @param offset    the first byte of the range
     * @param length    the length of the range, positive
     */
    default void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
    }

    /**
     * Maps one page for the CPU ({@code kmap}). The core has checked the index. Optional.
     *
     * @param dmaBuf    the buffer
     * @param pageIndex the page, from 0
     * @return a native segment of at least the page's length (a full page, or the remainder for the last page)
     */
    default MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        throw new DmaBufException(Errno.EINVAL, "this exporter has no kmap op");
    }

    /**
     * Undoes {@link #kmap}. Optional.
     *
     * @param dmaBuf    the buffer
     * @param pageIndex the page
     * @param page      the segment kmap returned
     */
    default void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
    }

    /**
     * Maps one page for a short access that must not block ({@code kmap_atomic}). Optional: without it the core
     * uses {@link #kmap}.
     *
     * @param dmaBuf    the buffer
     * @param pageIndex the page, from 0
     * @return a native segment of at least the page's length
     */
    default MemorySegment kmapAtomic(DmaBuf dmaBuf, long pageIndex) {
        return kmap(dmaBuf, pageIndex);
    }

    /**
     * Undoes {@link #kmapAtomic}. Optional: without it the core uses {@link #kunmap}.
     *
     * @param dmaBuf    the buffer
     * @param pageIndex the page
     * @param page      the segment kmapAtomic returned
     */
    default void kunmapAtomic(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        kunmap(dmaBuf, pageIndex, page);
    }

    /**
     * Maps the whole buffer contiguously for the CPU ({@code vmap}). Called once for the first of any number of
     * vmaps, with the buffer's lock held. Optional.
     *
     * @param dmaBuf the buffer
     * @return a native segment of at least {@link DmaBuf#size()} bytes
     */
    default MemorySegment vmap(DmaBuf dmaBuf) {
        throw new DmaBufException(Errno.EINVAL, "this exporter has no vmap op");
    }

    /**
     * Undoes {@link #vmap}, called once after the last vunmap, with the buffer's lock held. Optional.
     *
     * @param dmaBuf the buffer
     * @param map    the segment vmap returned
     */
    default void vunmap(DmaBuf dmaBuf, MemorySegment map) {
    }

    /**
     * Maps part of the buffer for a user ({@code mmap}). The core has checked the range and the access mode.
     * Optional.
     *
     * @param dmaBuf the buffer
     * @param vma    the range and protection
     * @return a native segment of at least {@link VmArea#length()} bytes showing the buffer from
     *         {@link VmArea#offset()}
     */
    default MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        throw new DmaBufException(Errno.EINVAL, "this exporter has no mmap op");
    }

    /**
     * A new OS file descriptor for the buffer's storage, for a native process ({@link DmaBufRegistry#osFd}). Only
     * exporters whose storage is a real file (a memfd, a kernel dma-buf) have it; the core calls it for a live buffer
     * only, with no lock held, and never lets the buffer be released while the call runs. Optional: without it the
     * core refuses {@code osFd} with {@link Errno#EINVAL}.
     *
     * @param dmaBuf      the buffer
     * @param closeOnExec whether the new fd gets close-on-exec
     * @return a new fd of this process (a {@code dup} of the exporter's), owned by the caller from now on
     * @since 1.1
     */
    default int osFd(DmaBuf dmaBuf, boolean closeOnExec) {
        throw new DmaBufException(Errno.EINVAL, "this exporter has no OS file descriptor");
    }

    /**
     * True when the core should keep the first table mapped per attachment and hand it back on later maps, unmapping
     * it only at detach ({@code cache_sgt_mapping}). Not allowed together with pin/unpin. Default false.
     */
    default boolean cacheSgtMapping() {
        return false;
    }
}
