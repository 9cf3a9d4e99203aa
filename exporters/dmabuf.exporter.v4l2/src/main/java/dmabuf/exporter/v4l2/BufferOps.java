package dmabuf.exporter.v4l2;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
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

/**
 * The ops of one exported capture buffer (the kernel's {@code dmabuf->priv}), backed by the buffer's page allocation
 * from the device's contiguous pool. From export on, these ops own the allocation: {@link #release} frees it, once,
 * whether the last reference went (the device's after REQBUFS(0), or an importer's after that) or the buffer was
 * revoked.
 * <p>
 * Implements map, unmap, release (mandatory); attach (refusing a device that cannot use the pages, with
 * {@link Errno#EBUSY}); begin/end CPU access (waiting for the device's write in progress, counted); kmap, vmap and
 * mmap through the allocation's views.
 */
final class BufferOps implements DmaBufOps {
    private final String device;
    private final BufferStorage storage;
    private final DeviceLog log;
    private final Consumer<BufferOps> onRelease;
    private final AtomicInteger releases = new AtomicInteger();
    private final AtomicInteger maps = new AtomicInteger();
    private final AtomicInteger unmaps = new AtomicInteger();
    private volatile DmaBuf buffer;

    /**
     * @param device    the device's name, for messages
     * @param storage   the buffer's memory, owned by these ops from export on
     * @param log       the device's log
     * @param onRelease told once release has freed the memory
     */
    BufferOps(String device, BufferStorage storage, DeviceLog log, Consumer<BufferOps> onRelease) {
        this.device = device;
        this.storage = storage;
        this.log = log;
        this.onRelease = onRelease;
    }

    /** Records the buffer the core made for these ops (after export returned). */
    void exportedAs(DmaBuf dmaBuf) {
        this.buffer = dmaBuf;
    }

    /** The exported buffer, or null before export returned. */
    DmaBuf buffer() {
        return buffer;
    }

    BufferStorage storage() {
        return storage;
    }

    /** True once release ran. */
    boolean isReleased() {
        return releases.get() > 0;
    }

    /** How often release was called: 1 after a correct release, never more. */
    int releaseCalls() {
        return releases.get();
    }

    int mapCalls() {
        return maps.get();
    }

    int unmapCalls() {
        return unmaps.get();
    }

    /** Refuses a device that cannot use the pages: beyond its DMA mask, segments too long or too many. */
    @Override
    public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        Device d = attachment.device();
        String why = storage.allocation().unusableBy(d);
        if (why != null) {
            throw new DmaBufException(Errno.EBUSY, device + ": device '" + d.name() + "' cannot use "
                    + storage.label() + ": " + why);
        }
    }

    /** The allocation's table for the attached device: one segment, the pool being contiguous. */
    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        maps.incrementAndGet();
        return storage.allocation().sgTable(attachment.device());
    }

    /** Nothing to undo: no IOMMU mapping stands behind the table. */
    @Override
    public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        unmaps.incrementAndGet();
    }

    /** Frees the pages back to the device's pool, once. */
    @Override
    public void release(DmaBuf dmaBuf) {
        if (releases.incrementAndGet() != 1) {
            throw new IllegalStateException("release ran twice for " + storage.label());
        }
        storage.free(log);
        onRelease.accept(this);
    }

    /** The CPU will touch the frame: wait for the device's write in progress (bounded, EAGAIN). */
    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        storage.beginCpu();
    }

    /** The CPU is done: the device may write the buffer again. */
    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        storage.endCpu();
    }

    /** One page of the allocation. */
    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        return storage.allocation().page(pageIndex);
    }

    /** The allocation's contiguous view: its pages themselves (the pool is contiguous). */
    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        return storage.allocation().contiguousView();
    }

    /** The part of the contiguous view the mapping shows. */
    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        return storage.allocation().contiguousView().asSlice(vma.offset(), vma.length());
    }

    @Override
    public String toString() {
        return "ops of " + storage.label();
    }
}
