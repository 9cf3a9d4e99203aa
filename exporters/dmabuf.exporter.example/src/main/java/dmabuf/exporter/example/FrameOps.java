package dmabuf.exporter.example;

import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;

/**
 * The ops of one exported frame (the kernel's {@code dmabuf->priv} is this object): the buffer lives in one pool slot,
 * which is physically contiguous, so every device sees it as one segment at the slot's fake bus address. The CPU
 * views are slices of the slot; the core re-scopes them to the buffer.
 * <p>
 * Implements map, unmap, release (mandatory), attach (to refuse devices the slot does not suit), vmap, kmap and mmap.
 */
final class FrameOps implements DmaBufOps {
    private final FramePool pool;
    private final FramePool.Slot slot;
    private final Consumer<FrameOps> onRelease;
    private final boolean cacheTables;
    private volatile DmaBuf buffer;
    private volatile boolean released;

    /**
     * @param pool      the pool the slot belongs to
     * @param slot      the storage of this buffer, lent until release
     * @param onRelease told after the slot went back to the pool
     */
    FrameOps(FramePool pool, FramePool.Slot slot, Consumer<FrameOps> onRelease) {
        this(pool, slot, onRelease, false);
    }

    /**
     * @param cacheTables true to let the core cache each attachment's table ({@link #cacheSgtMapping()}): a slot's
     *                    table never changes, so an importer that keeps its attachment maps for free after the first
     *                    time (what a pipeline reusing its buffers wants)
     */
    FrameOps(FramePool pool, FramePool.Slot slot, Consumer<FrameOps> onRelease, boolean cacheTables) {
        this.pool = pool;
        this.slot = slot;
        this.onRelease = onRelease;
        this.cacheTables = cacheTables;
    }

    @Override
    public boolean cacheSgtMapping() {
        return cacheTables;
    }

    /** Records the buffer the core made for these ops (after export returned). */
    void exportedAs(DmaBuf dmaBuf) {
        this.buffer = dmaBuf;
    }

    /** The buffer, or null before export returned. */
    DmaBuf buffer() {
        return buffer;
    }

    /** The slot. */
    FramePool.Slot slot() {
        return slot;
    }

    /** True once release ran. */
    boolean isReleased() {
        return released;
    }

    /** Refuses a device that cannot take the slot as one segment at its bus address. */
    @Override
    public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        Device device = attachment.device();
        long size = pool.frameBytes();
        if (!device.canReach(slot.busAddress(), size)) {
            throw new DmaBufException(Errno.EBUSY, String.format("device '%s' (DMA mask 0x%x) cannot reach frame "
                    + "buffer %d at bus address 0x%x", device.name(), device.dmaMask(), slot.index(),
                    slot.busAddress()));
        }
        if (device.maxSegmentSize() < size) {
            throw new DmaBufException(Errno.EBUSY, "device '" + device.name() + "' takes segments of at most "
                    + device.maxSegmentSize() + " bytes; a frame is one segment of " + size);
        }
    }

    /** One contiguous segment covering the frame. */
    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        return SgTable.contiguous(slot.busAddress(), pool.frameBytes());
    }

    /** Nothing to undo: there is no IOMMU mapping behind the fake bus address. */
    @Override
    public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
    }

    /** The last reference is gone (or the buffer was revoked): the slot goes back to the pool for the next frame. */
    @Override
    public void release(DmaBuf dmaBuf) {
        if (released) {
            throw new IllegalStateException("release ran twice for frame buffer " + slot.index());
        }
        released = true;
        pool.give(slot);
        onRelease.accept(this);
    }

    /** The whole slot (at least the buffer's size). */
    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        return slot.storage();
    }

    /** One page of the slot; the last page of a frame that does not fill it is shorter. */
    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        long offset = pageIndex << DmaBufUapi.PAGE_SHIFT;
        return slot.storage().asSlice(offset, Math.min(DmaBufUapi.PAGE_SIZE, pool.frameBytes() - offset));
    }

    /** The part of the slot the mapping shows: {@code [vma.offset(), vma.offset() + vma.length())}. */
    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        return slot.storage().asSlice(vma.offset(), vma.length());
    }
}
