package dmabuf.heap;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.api.memory.PageAllocation;

/**
 * The ops of one heap buffer (the kernel's {@code dmabuf->priv} is this object), backed by one
 * {@link PageAllocation} of the heap's pool, whose pages are the buffer's storage for its whole life.
 * <ul>
 * <li>{@link #attach}: refuses with {@link Errno#EBUSY} a device the pages do not suit (a page beyond its DMA mask,
 * scattered pages for a device that needs contiguous memory, more segments than it takes), with the reason
 * {@link PageAllocation#unusableBy} gives.</li>
 * <li>{@link #map}: a table built for the attached device on every map, as the system heap duplicates its table per
 * attachment: runs merged where physically adjacent and split to the device's segment size. {@link #unmap} has
 * nothing to undo (there is no IOMMU mapping behind a bus address).</li>
 * <li>{@link #release}: returns the pages to the pool, exactly once.</li>
 * <li>CPU access: {@link #kmap} is the page itself (the linear map), {@link #vmap} the allocation's contiguous view
 * (for scattered pages an alias mapping of them in buffer order, as the kernel's {@code vmap}; where the system
 * cannot alias, {@link Errno#EOPNOTSUPP} passes through and importers fall back to kmap), {@link #mmap} a slice of
 * that view. The begin/end hooks only count: the pages are cache-coherent host memory.</li>
 * </ul>
 */
final class HeapBufferOps implements DmaBufOps {
    private final PageAllocation allocation;
    private final String heapName;
    private final Consumer<HeapBufferOps> onRelease;
    private final AtomicBoolean released = new AtomicBoolean();
    private final AtomicLong cpuBegins = new AtomicLong();
    private final AtomicLong cpuEnds = new AtomicLong();
    private volatile DmaBuf buffer;

    /**
     * @param allocation the buffer's pages, owned by these ops from now on
     * @param heapName   the heap's name when the buffer was allocated, for messages
     * @param onRelease  told after the pages went back to the pool
     */
    HeapBufferOps(PageAllocation allocation, String heapName, Consumer<HeapBufferOps> onRelease) {
        this.allocation = allocation;
        this.heapName = heapName;
        this.onRelease = onRelease;
    }

    /** Records the buffer the core made for these ops (after export returned). */
    void exportedAs(DmaBuf dmaBuf) {
        this.buffer = dmaBuf;
    }

    /** The buffer, or null before export returned. */
    DmaBuf buffer() {
        return buffer;
    }

    /** The pages. */
    PageAllocation allocation() {
        return allocation;
    }

    /** True once release ran. */
    boolean isReleased() {
        return released.get();
    }

    /** How many CPU-access brackets were opened. */
    long cpuBegins() {
        return cpuBegins.get();
    }

    /** How many CPU-access brackets were closed. */
    long cpuEnds() {
        return cpuEnds.get();
    }

    /** Refuses a device that cannot use these pages, with {@link Errno#EBUSY} and the reason. */
    @Override
    public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        Device device = attachment.device();
        String why = allocation.unusableBy(device);
        if (why != null) {
            throw new DmaBufException(Errno.EBUSY, "dma-heap '" + heapName + "' cannot give device '"
                    + device.name() + "' this buffer: " + why);
        }
    }

    /** A table of this buffer's pages for the attached device, built anew for every map. */
    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        return allocation.sgTable(attachment.device());
    }

    /** Nothing to undo: no IOMMU mapping stands behind the bus addresses. */
    @Override
    public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
    }

    /** The last reference is gone or the buffer was revoked: the pages go back to the pool, once. */
    @Override
    public void release(DmaBuf dmaBuf) {
        if (!released.compareAndSet(false, true)) {
            throw new IllegalStateException("release ran twice for " + allocation + " of dma-heap '" + heapName
                    + "'");
        }
        try {
            allocation.close();
        } finally {
            onRelease.accept(this);
        }
    }

    /** Counts; host memory is coherent, so there is nothing to invalidate. */
    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        cpuBegins.incrementAndGet();
    }

    /** Counts; host memory is coherent, so there is nothing to flush. */
    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        cpuEnds.incrementAndGet();
    }

    /** The page itself. */
    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        return allocation.page(pageIndex);
    }

    /** The contiguous view: the pages themselves for one run, an alias of them for scattered runs. */
    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        return allocation.contiguousView();
    }

    /** Nothing: the view lives as long as the allocation and the next vmap gets the same one. */
    @Override
    public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
    }

    /** The part of the contiguous view the mapping shows. */
    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        return allocation.contiguousView().asSlice(vma.offset(), vma.length());
    }

    @Override
    public String toString() {
        return "dma-heap '" + heapName + "' buffer " + allocation;
    }
}
