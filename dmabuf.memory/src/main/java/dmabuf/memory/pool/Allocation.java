package dmabuf.memory.pool;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dmabuf.api.Device;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PageRun;
import dmabuf.memory.Sizes;
import dmabuf.memory.mapping.Backing;

/**
 * Pages of one pool, as runs in buffer order.
 * <p>
 * <b>View scope.</b> {@link #page} and, for a physically contiguous allocation, {@link #contiguousView} are slices of
 * the pool's linear map: they stay valid until the <em>pool</em> closes, not only until this allocation does (the
 * dma-buf core re-scopes what an exporter hands it to each buffer, which is what bounds an importer's views). The
 * contiguous view of a scattered allocation is an alias mapping of its own, unmapped and invalidated by
 * {@link #close()}. After close every method but {@link #close()}, {@link #size()}, {@link #runs()},
 * {@link #pool()} and {@link #isContiguous()} refuses: {@link Errno#EFAULT} for views, a reason for
 * {@link #unusableBy}.
 */
public final class Allocation implements PageAllocation {
    private final Pool pool;
    private final long id;
    private final long chargeBundleId;
    final PageAllocator.Runs runs;
    private final long[] firstPage; // buffer page index at which each run starts
    private final long size;
    private final List<PageRun> pageRuns;
    private final boolean contiguous;
    private volatile boolean closed;
    private MemorySegment view;
    private Backing.Alias alias;

    Allocation(Pool pool, long id, PageAllocator.Runs runs, long chargeBundleId) {
        this.pool = pool;
        this.id = id;
        this.runs = runs;
        this.chargeBundleId = chargeBundleId;
        int n = runs.start().length;
        this.firstPage = new long[n];
        List<PageRun> list = new ArrayList<>(n);
        long pagesSoFar = 0;
        boolean adjacent = true;
        for (int r = 0; r < n; r++) {
            firstPage[r] = pagesSoFar;
            pagesSoFar += runs.count()[r];
            list.add(new PageRun(pool.physBase() + ((long) runs.start()[r] << DmaBufUapi.PAGE_SHIFT),
                    runs.count()[r]));
            if (r > 0 && runs.start()[r - 1] + runs.count()[r - 1] != runs.start()[r]) {
                adjacent = false;
            }
        }
        this.size = pagesSoFar << DmaBufUapi.PAGE_SHIFT;
        this.pageRuns = List.copyOf(list);
        this.contiguous = adjacent;
    }

    @Override
    public PagePool pool() {
        return pool;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public List<PageRun> runs() {
        return pageRuns;
    }

    /** True when the runs follow each other physically in buffer order (one run, or adjacent runs). */
    @Override
    public boolean isContiguous() {
        return contiguous;
    }

    /** The bundle this allocation is charged to. */
    public long chargeBundleId() {
        return chargeBundleId;
    }

    /** True once closed, by its owner or by its pool. */
    public boolean isClosed() {
        return closed;
    }

    @Override
    public String unusableBy(Device device) {
        if (closed) {
            return label() + " was freed";
        }
        return SgTables.unusable(pageRuns, device);
    }

    @Override
    public SgTable sgTable(Device device) {
        if (closed) {
            throw new DmaBufException(Errno.EINVAL, label() + " was freed");
        }
        return SgTables.build(pageRuns, device);
    }

    @Override
    public MemorySegment page(long index) {
        if (index < 0 || index >= size >> DmaBufUapi.PAGE_SHIFT) {
            throw new DmaBufException(Errno.EINVAL, "page " + index + " is outside " + label() + " ("
                    + (size >> DmaBufUapi.PAGE_SHIFT) + " pages)");
        }
        if (closed) {
            throw new DmaBufException(Errno.EFAULT, "page " + index + " of " + label() + ": it was freed");
        }
        int r = Arrays.binarySearch(firstPage, index);
        if (r < 0) {
            r = -r - 2;
        }
        long poolPage = runs.start()[r] + (index - firstPage[r]);
        return pool.linearSlice(poolPage << DmaBufUapi.PAGE_SHIFT, DmaBufUapi.PAGE_SIZE);
    }

    @Override
    public synchronized MemorySegment contiguousView() {
        if (closed) {
            throw new DmaBufException(Errno.EFAULT, "contiguous view of " + label() + ": it was freed");
        }
        if (view == null) {
            if (contiguous) {
                view = pool.linearSlice(runOffset(0), size);
            } else {
                int n = runCount();
                long[] offsets = new long[n];
                long[] lengths = new long[n];
                for (int r = 0; r < n; r++) {
                    offsets[r] = runOffset(r);
                    lengths[r] = runBytes(r);
                }
                alias = pool.backing().alias(offsets, lengths, size);
                view = alias.view();
            }
        }
        return view;
    }

    @Override
    public void close() {
        if (invalidate()) {
            pool.free(this);
        }
    }

    /** Marks the allocation closed and unmaps its alias; true when this call did it. */
    synchronized boolean invalidate() {
        if (closed) {
            return false;
        }
        closed = true;
        view = null;
        if (alias != null) {
            alias.close();
            alias = null;
        }
        return true;
    }

    int runCount() {
        return runs.start().length;
    }

    long runOffset(int r) {
        return (long) runs.start()[r] << DmaBufUapi.PAGE_SHIFT;
    }

    long runBytes(int r) {
        return (long) runs.count()[r] << DmaBufUapi.PAGE_SHIFT;
    }

    /** {@code allocation #3 (8 KiB) of pool 'gpu0'}. */
    String label() {
        return "allocation #" + id + " (" + Sizes.bytes(size) + ") of pool '" + pool.name() + "'";
    }

    @Override
    public String toString() {
        return label() + " " + pageRuns;
    }
}
