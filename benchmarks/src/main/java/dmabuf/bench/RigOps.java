package dmabuf.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;

/**
 * The exporter the benchmarks use where the example driver has no such case: a buffer whose storage is one segment
 * the rig owns (pre-faulted), with every CPU op, and a choice of table (one contiguous segment, or one entry per page
 * as scattered system-heap memory), of table caching, and of begin/end (coherent: nothing to do; or flushing: one
 * touch per 64-byte cache line of the range, the shape of the kernel's clflush loop). Tables are built once, as a
 * driver keeps its page list, so map measures the core and not the exporter's allocation.
 */
class RigOps implements DmaBufOps {
    /** The cache line a flushing begin/end touches once. */
    static final int CACHE_LINE = 64;

    final MemorySegment storage;
    private final SgTable table;
    private final boolean cacheTables;
    private final boolean flushing;
    /** Sink for the flush loop's reads, so the JIT keeps them. */
    private volatile long flushSink;

    /**
     * @param storage     the buffer's memory (whole pages)
     * @param dmaAddress  its fake bus address
     * @param perPage     true for a table of one entry per page, false for one contiguous entry
     * @param cacheTables true to let the core cache each attachment's table
     * @param flushing    true for a begin/end that does cache maintenance over its range
     */
    RigOps(MemorySegment storage, long dmaAddress, boolean perPage, boolean cacheTables, boolean flushing) {
        this.storage = storage;
        this.cacheTables = cacheTables;
        this.flushing = flushing;
        if (perPage) {
            List<SgTable.Entry> entries = new ArrayList<>();
            long pages = storage.byteSize() / DmaBufUapi.PAGE_SIZE;
            for (long p = 0; p < pages; p++) {
                // every other page: scattered, nothing merges
                entries.add(new SgTable.Entry(dmaAddress + 2 * p * DmaBufUapi.PAGE_SIZE, DmaBufUapi.PAGE_SIZE));
            }
            this.table = new SgTable(entries);
        } else {
            this.table = SgTable.contiguous(dmaAddress, storage.byteSize());
        }
    }

    /** Pre-faulted storage of {@code bytes} (whole pages) from the rig's arena. */
    static MemorySegment storage(Arena arena, long bytes) {
        long size = (bytes + DmaBufUapi.PAGE_SIZE - 1) & -DmaBufUapi.PAGE_SIZE;
        MemorySegment s = arena.allocate(size, DmaBufUapi.PAGE_SIZE);
        s.fill((byte) 1);
        return s;
    }

    @Override
    public boolean cacheSgtMapping() {
        return cacheTables;
    }

    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        return table;
    }

    @Override
    public void unmap(DmaBufAttachment attachment, SgTable mapped, DmaDataDirection direction) {
    }

    @Override
    public void release(DmaBuf dmaBuf) {
    }

    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        if (flushing) {
            flush(offset, length);
        }
    }

    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        if (flushing) {
            flush(offset, length);
        }
    }

    private void flush(long offset, long length) {
        long sum = 0;
        for (long at = offset; at < offset + length; at += CACHE_LINE) {
            sum += storage.get(ValueLayout.JAVA_BYTE, at);
        }
        flushSink = sum;
    }

    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        return storage.asSlice(pageIndex * DmaBufUapi.PAGE_SIZE, DmaBufUapi.PAGE_SIZE);
    }

    @Override
    public void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
    }

    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        return storage;
    }

    @Override
    public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
    }

    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        return storage.asSlice(vma.offset(), vma.length());
    }

    /**
     * A naive exporter that gives every buffer its own {@link Arena#ofShared()} (allocated at export, closed at
     * release): the export scenario measures what the core adds on top of that one arena.
     */
    static final class ArenaPerBuffer implements DmaBufOps {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment storage;

        ArenaPerBuffer(long bytes) {
            storage = arena.allocate(bytes, DmaBufUapi.PAGE_SIZE);
        }

        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            return SgTable.contiguous(1L << 30, storage.byteSize());
        }

        @Override
        public void unmap(DmaBufAttachment attachment, SgTable mapped, DmaDataDirection direction) {
        }

        @Override
        public void release(DmaBuf dmaBuf) {
            arena.close();
        }
    }
}
