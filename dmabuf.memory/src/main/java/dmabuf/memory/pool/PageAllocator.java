package dmabuf.memory.pool;

import java.util.BitSet;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.memory.Sizes;

/**
 * The page allocator of one pool: a bit per page, set when the page is free. Not thread-safe: its {@link Pool}
 * guards it.
 * <ul>
 * <li>{@link #contiguous}: the first (lowest) free run long enough, as CMA does; a pool with enough free pages but no
 * long enough run is fragmented, and the message says so.</li>
 * <li>{@link #scattered}: free runs from the top of the pool downwards, each taken from its top in chunks of at most
 * the pool's chunk size, as a fresh buddy allocator hands out high pages first: a multi-chunk allocation is a list of
 * runs in descending physical order, never adjacent in buffer order.</li>
 * </ul>
 */
final class PageAllocator {
    /**
     * Runs of pages, in buffer order.
     *
     * @param start each run's first page index in the pool
     * @param count each run's page count
     */
    record Runs(int[] start, int[] count) {
    }

    private final String pool;
    private final int pages;
    private final BitSet free;
    private int freeCount;

    PageAllocator(String pool, int pages) {
        this.pool = pool;
        this.pages = pages;
        this.free = new BitSet(pages);
        free.set(0, pages);
        this.freeCount = pages;
    }

    int freePages() {
        return freeCount;
    }

    /** One run of {@code n} pages, first fit. */
    Runs contiguous(int n) {
        checkEnough(n);
        int largest = 0;
        int i = free.nextSetBit(0);
        while (i >= 0 && i < pages) {
            int j = free.nextClearBit(i);
            if (j - i >= n) {
                free.clear(i, i + n);
                freeCount -= n;
                return new Runs(new int[] {i}, new int[] {n});
            }
            largest = Math.max(largest, j - i);
            i = free.nextSetBit(j);
        }
        throw new DmaBufException(Errno.ENOMEM, "pool '" + pool + "' has " + freeCount + " free pages but no run of "
                + n + " contiguous pages (largest free run: " + largest + " pages): it is fragmented; free "
                + "buffers or create a larger contiguous pool");
    }

    /** {@code n} pages in chunks of at most {@code chunk} pages, from the top of the pool down. */
    Runs scattered(int n, int chunk) {
        checkEnough(n);
        int[] start = new int[8];
        int[] count = new int[8];
        int runs = 0;
        int remaining = n;
        int pos = pages - 1;
        while (remaining > 0) {
            int hi = free.previousSetBit(pos);
            if (hi < 0) {
                throw new IllegalStateException("pool '" + pool + "': free count " + freeCount + " disagrees with "
                        + "its bitmap");
            }
            int lo = free.previousClearBit(hi) + 1;
            int end = hi + 1;
            while (end > lo && remaining > 0) {
                int c = Math.min(Math.min(chunk, remaining), end - lo);
                if (runs == start.length) {
                    start = java.util.Arrays.copyOf(start, runs * 2);
                    count = java.util.Arrays.copyOf(count, runs * 2);
                }
                start[runs] = end - c;
                count[runs] = c;
                runs++;
                end -= c;
                remaining -= c;
            }
            pos = lo - 1;
        }
        for (int r = 0; r < runs; r++) {
            free.clear(start[r], start[r] + count[r]);
        }
        freeCount -= n;
        return new Runs(java.util.Arrays.copyOf(start, runs), java.util.Arrays.copyOf(count, runs));
    }

    /** Returns pages. */
    void release(Runs runs) {
        for (int r = 0; r < runs.start().length; r++) {
            int s = runs.start()[r];
            int c = runs.count()[r];
            int already = free.nextSetBit(s);
            if (already >= 0 && already < s + c) {
                throw new IllegalStateException("pool '" + pool + "': page " + already + " freed twice");
            }
            free.set(s, s + c);
            freeCount += c;
        }
    }

    /** True when every page of {@code [first, first + n)} is allocated. */
    boolean allAllocated(int first, int n) {
        int f = free.nextSetBit(first);
        return f < 0 || f >= first + n;
    }

    /** The first free page of {@code [first, first + n)}, or -1. */
    int firstFree(int first, int n) {
        int f = free.nextSetBit(first);
        return f >= 0 && f < first + n ? f : -1;
    }

    /** Refuses a request for more pages than are free. */
    void checkEnough(long n) {
        if (n > freeCount) {
            throw new DmaBufException(Errno.ENOMEM, "pool '" + pool + "' has " + freeCount + " free pages ("
                    + Sizes.bytes((long) freeCount << 12) + "), " + n + " requested (" + Sizes.bytes(n << 12)
                    + ")");
        }
    }
}
