package dmabuf.itests;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;

/**
 * The ops of one test buffer: its storage is a slice of its own Arena, freed by {@code release} (a second release
 * would fail on the closed Arena, and is counted). Implements vmap and mmap so importers can hold CPU views.
 */
public final class ArenaOps implements DmaBufOps {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment storage;
    /** How often release ran: must end at exactly 1. */
    public final AtomicInteger released = new AtomicInteger();
    /** How often detach ran. */
    public final AtomicInteger detached = new AtomicInteger();

    /** Storage of {@code size} bytes, page aligned. */
    public ArenaOps(long size) {
        this.storage = arena.allocate(size, DmaBufUapi.PAGE_SIZE);
    }

    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        return SgTable.contiguous(0x4000_0000L, storage.byteSize());
    }

    @Override
    public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
    }

    @Override
    public void detach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        detached.incrementAndGet();
    }

    @Override
    public void release(DmaBuf dmaBuf) {
        released.incrementAndGet();
        arena.close(); // the storage is freed: a second release throws here
    }

    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        return storage;
    }

    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        return storage.asSlice(vma.offset(), vma.length());
    }
}
