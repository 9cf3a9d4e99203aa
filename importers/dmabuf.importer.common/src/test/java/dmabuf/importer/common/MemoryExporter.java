package dmabuf.importer.common;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;

/**
 * A test exporter: one buffer of off-heap memory "at" a bus address, with or without vmap (kmap always). Refuses a
 * device that cannot reach the address with EBUSY, as the README's FrameOps. Shared with the importers' tests
 * through this module's test jar.
 */
public final class MemoryExporter implements DmaBufOps {
    public final Arena arena = Arena.ofShared();
    public final MemorySegment memory;
    public final long busAddress;
    public final boolean vmap;
    public volatile boolean released;

    public MemoryExporter(long size, long busAddress, boolean vmap) {
        long pages = (size + DmaBufUapi.PAGE_SIZE - 1) / DmaBufUapi.PAGE_SIZE;
        this.memory = arena.allocate(pages * DmaBufUapi.PAGE_SIZE, DmaBufUapi.PAGE_SIZE);
        this.busAddress = busAddress;
        this.vmap = vmap;
    }

    @Override
    public void attach(DmaBuf buf, DmaBufAttachment att) {
        if (!att.device().canReach(busAddress, memory.byteSize())) {
            throw new DmaBufException(Errno.EBUSY, "device '" + att.device().name() + "' cannot reach 0x"
                    + Long.toHexString(busAddress));
        }
    }

    @Override
    public SgTable map(DmaBufAttachment att, DmaDataDirection dir) {
        return SgTable.contiguous(busAddress, memory.byteSize());
    }

    @Override
    public void unmap(DmaBufAttachment att, SgTable table, DmaDataDirection dir) {
    }

    @Override
    public void release(DmaBuf buf) {
        released = true;
    }

    @Override
    public MemorySegment vmap(DmaBuf buf) {
        if (!vmap) {
            return DmaBufOps.super.vmap(buf);
        }
        return memory;
    }

    @Override
    public void vunmap(DmaBuf buf, MemorySegment map) {
    }

    @Override
    public MemorySegment kmap(DmaBuf buf, long page) {
        return memory.asSlice(page * DmaBufUapi.PAGE_SIZE, DmaBufUapi.PAGE_SIZE);
    }

    @Override
    public void kunmap(DmaBuf buf, long page, MemorySegment segment) {
    }
}
