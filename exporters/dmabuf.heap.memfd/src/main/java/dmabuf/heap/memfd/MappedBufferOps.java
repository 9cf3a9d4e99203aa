package dmabuf.heap.memfd;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.os.MappedRegion;

/**
 * The ops of a buffer whose storage is a shared mapping of real files ({@link MappedRegion}): a memfd heap buffer or
 * a udmabuf. The pages are the files' shmem pages, outside the simulated physical memory, so a device reaches them
 * as through an IOMMU sharing the process's address space (SVA): the bus address of a byte is its address in the
 * mapping, contiguous over the whole buffer.
 * <ul>
 * <li>{@link #attach}: refuses with {@link Errno#EBUSY} a device whose DMA mask does not reach the mapping or that
 * would need more segments than it takes.</li>
 * <li>{@link #map}: the mapping's range split to the device's segment size; {@link #unmap} has nothing to undo.</li>
 * <li>{@link #kmap}, {@link #vmap}, {@link #mmap}: slices of the mapping itself, never copies.</li>
 * <li>{@link #release}: unmaps the region, exactly once (its arena's cleanup), then {@link #released()}.</li>
 * </ul>
 */
class MappedBufferOps implements DmaBufOps {
    private final String what;
    private final MappedRegion region;
    private final Consumer<MappedBufferOps> onRelease;
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile DmaBuf buffer;

    /**
     * @param what      a description for messages, e.g. {@code memfd heap 'memfd' buffer}
     * @param region    the storage, owned by these ops from now on
     * @param onRelease told after the storage is gone
     */
    MappedBufferOps(String what, MappedRegion region, Consumer<MappedBufferOps> onRelease) {
        this.what = what;
        this.region = region;
        this.onRelease = onRelease;
    }

    /** Records the buffer the core made for these ops. */
    final void exportedAs(DmaBuf dmaBuf) {
        this.buffer = dmaBuf;
    }

    /** The buffer, or null before export returned. */
    final DmaBuf buffer() {
        return buffer;
    }

    /** The storage. */
    final MappedRegion region() {
        return region;
    }

    /** True once release ran. */
    final boolean isReleased() {
        return released.get();
    }

    /** Refuses a device that cannot reach the mapping's addresses or would need too many segments. */
    @Override
    public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        Device device = attachment.device();
        if (!device.canReach(region.address(), region.length())) {
            throw new DmaBufException(Errno.EBUSY, what + " cannot give device '" + device.name() + "' this buffer: "
                    + "its pages are reached at their mapping's addresses " + String.format("0x%x..0x%x",
                            region.address(), region.address() + region.length() - 1)
                    + ", beyond the device's DMA mask " + String.format("0x%x", device.dmaMask()));
        }
        long segments = (region.length() + device.maxSegmentSize() - 1) / device.maxSegmentSize();
        if (segments > device.maxSegmentCount()) {
            throw new DmaBufException(Errno.EBUSY, what + " cannot give device '" + device.name() + "' this buffer: "
                    + "it needs " + segments + " segments of at most " + device.maxSegmentSize() + " bytes, the "
                    + "device takes " + device.maxSegmentCount());
        }
    }

    /** The mapping's range, split to the device's segment size. */
    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        return SgTable.split(region.address(), region.length(), attachment.device().maxSegmentSize());
    }

    /** Nothing to undo: the table names the mapping, which lives until release. */
    @Override
    public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
    }

    /** Unmaps the storage, once, then tells the owner. */
    @Override
    public void release(DmaBuf dmaBuf) {
        if (!released.compareAndSet(false, true)) {
            throw new IllegalStateException("release ran twice for " + this);
        }
        try {
            region.close();
            closeFiles();
        } finally {
            onRelease.accept(this);
        }
    }

    /** What a subclass closes besides the mapping (its file), after the mapping is gone. */
    void closeFiles() {
    }

    /** One page of the mapping. */
    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        long offset = pageIndex << DmaBufUapi.PAGE_SHIFT;
        return region.segment().asSlice(offset, Math.min(DmaBufUapi.PAGE_SIZE, region.length() - offset));
    }

    /** The mapping itself: it is already contiguous. */
    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        return region.segment();
    }

    /** Nothing: the mapping lives until release. */
    @Override
    public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
    }

    /** The part of the mapping the user maps. */
    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        return region.segment().asSlice(vma.offset(), vma.length());
    }

    @Override
    public String toString() {
        return what + " (" + region + ")";
    }
}
