package dmabuf.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;

/**
 * A small exporter for tests: one buffer's storage in a memory pool segment (long-lived, as a real exporter's pool),
 * every op counted and recorded, and hooks to make ops fail or misbehave. Implements every op; subclasses in tests
 * drop ops by extending {@link Minimal} instead.
 */
public class TestExporter implements DmaBufOps {
    /** The pool all test exporters carve storage from; never closed, as a driver's pool outlives its buffers. */
    public static final Arena POOL = Arena.ofShared();

    /** The storage behind the buffer. */
    public final MemorySegment storage;
    /** The fake bus address of the storage's first byte. */
    public final long dmaAddress;
    /** Call counts by op name. */
    public final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    /** Directions seen by map, unmap, begin and end, as "op:DIRECTION". */
    public final List<String> directions = new CopyOnWriteArrayList<>();
    /** Ranges seen by begin/end, as "op:offset+length". */
    public final List<String> ranges = new CopyOnWriteArrayList<>();
    /** Thrown by attach when set. */
    public volatile RuntimeException attachFailure;
    /** Thrown by map when set. */
    public volatile RuntimeException mapFailure;
    /** Thrown by vmap when set. */
    public volatile RuntimeException vmapFailure;
    /** Thrown by release when set. */
    public volatile RuntimeException releaseFailure;
    /** Replaces the table map returns, when set. */
    public volatile Function<DmaBufAttachment, SgTable> tableOverride;
    /** Segments per table: 1 is contiguous, more splits the storage into that many scattered pieces. */
    public volatile int segments = 1;
    /** Replaces vmap's result when set. */
    public volatile Function<DmaBuf, MemorySegment> vmapOverride;
    /** Replaces mmap's result when set. */
    public volatile Function<VmArea, MemorySegment> mmapOverride;
    /** Runs inside vmap (under the buffer's lock) when set, e.g. to call back into the core. */
    public volatile Runnable insideVmap;

    /** Storage of {@code size} bytes (rounded up to pages) at a fake bus address. */
    public TestExporter(long size, long dmaAddress) {
        this.storage = POOL.allocate(Math.max(DmaBufUapi.PAGE_SIZE, Errors.pageAlign(size)), DmaBufUapi.PAGE_SIZE);
        this.dmaAddress = dmaAddress;
    }

    /** Storage of {@code size} bytes at bus address 1 MiB. */
    public TestExporter(long size) {
        this(size, 1 << 20);
    }

    /** How often the op ran. */
    public int count(String op) {
        AtomicInteger c = calls.get(op);
        return c == null ? 0 : c.get();
    }

    protected void called(String op) {
        calls.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        called("map");
        directions.add("map:" + direction);
        if (mapFailure != null) {
            throw mapFailure;
        }
        if (tableOverride != null) {
            return tableOverride.apply(attachment);
        }
        long size = Errors.pageAlign(attachment.dmaBuf().size());
        if (segments <= 1) {
            return SgTable.contiguous(dmaAddress, size);
        }
        List<SgTable.Entry> entries = new ArrayList<>();
        long pages = size / DmaBufUapi.PAGE_SIZE;
        long perSegment = Math.max(1, pages / segments);
        long page = 0;
        for (int i = 0; page < pages; i++) {
            long n = i == segments - 1 ? pages - page : Math.min(perSegment, pages - page);
            // leave a one-page gap between segments: scattered memory
            entries.add(new SgTable.Entry(dmaAddress + (page + i) * DmaBufUapi.PAGE_SIZE, n * DmaBufUapi.PAGE_SIZE));
            page += n;
        }
        return new SgTable(entries);
    }

    @Override
    public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        called("unmap");
        directions.add("unmap:" + direction);
    }

    @Override
    public void release(DmaBuf dmaBuf) {
        called("release");
        if (releaseFailure != null) {
            throw releaseFailure;
        }
    }

    @Override
    public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        called("attach");
        if (attachFailure != null) {
            throw attachFailure;
        }
    }

    @Override
    public void detach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        called("detach");
    }

    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        called("begin");
        directions.add("begin:" + direction);
        ranges.add("begin:" + offset + "+" + length);
    }

    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        called("end");
        directions.add("end:" + direction);
        ranges.add("end:" + offset + "+" + length);
    }

    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        called("kmap");
        return storage.asSlice(pageIndex * DmaBufUapi.PAGE_SIZE, DmaBufUapi.PAGE_SIZE);
    }

    @Override
    public void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        called("kunmap");
    }

    @Override
    public MemorySegment kmapAtomic(DmaBuf dmaBuf, long pageIndex) {
        called("kmapAtomic");
        return storage.asSlice(pageIndex * DmaBufUapi.PAGE_SIZE, DmaBufUapi.PAGE_SIZE);
    }

    @Override
    public void kunmapAtomic(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        called("kunmapAtomic");
    }

    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        called("vmap");
        if (insideVmap != null) {
            insideVmap.run();
        }
        if (vmapFailure != null) {
            throw vmapFailure;
        }
        return vmapOverride != null ? vmapOverride.apply(dmaBuf) : storage;
    }

    @Override
    public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
        called("vunmap");
    }

    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        called("mmap");
        return mmapOverride != null ? mmapOverride.apply(vma) : storage.asSlice(vma.offset(), vma.length());
    }

    /** Only the mandatory ops: no attach hooks, no CPU access hooks, no kmap, vmap or mmap. */
    public static class Minimal implements DmaBufOps {
        /** Call counts by op name. */
        public final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            calls.computeIfAbsent("map", k -> new AtomicInteger()).incrementAndGet();
            return SgTable.contiguous(1 << 20, Errors.pageAlign(attachment.dmaBuf().size()));
        }

        @Override
        public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
            calls.computeIfAbsent("unmap", k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void release(DmaBuf dmaBuf) {
            calls.computeIfAbsent("release", k -> new AtomicInteger()).incrementAndGet();
        }
    }

    /** A dynamic exporter: adds pin and unpin. */
    public static class Dynamic extends TestExporter {
        /** Storage of {@code size} bytes. */
        public Dynamic(long size) {
            super(size);
        }

        @Override
        public void pin(DmaBufAttachment attachment) {
            called("pin");
        }

        @Override
        public void unpin(DmaBufAttachment attachment) {
            called("unpin");
        }
    }

    /** An exporter that asks the core to cache its tables. */
    public static class Caching extends TestExporter {
        /** Storage of {@code size} bytes. */
        public Caching(long size) {
            super(size);
        }

        @Override
        public boolean cacheSgtMapping() {
            return true;
        }
    }
}
