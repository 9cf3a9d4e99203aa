package dmabuf.memory.pool;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.Placement;
import dmabuf.api.memory.PoolSpec;
import dmabuf.memory.Sizes;
import dmabuf.memory.mapping.Backing;
import dmabuf.memory.zone.AddressSpace;

/**
 * A pool: a physical range, the real memory behind it and a page allocator over it.
 * <p>
 * <b>View scope.</b> Every segment this pool hands out, through {@link Allocation#page}, a contiguous
 * {@link Allocation#contiguousView} or {@link #resolve}, is a slice of the pool's linear map and lives as long as the
 * pool: closing the pool invalidates all of them at once (a stale access throws {@link IllegalStateException}).
 * Closing a single allocation does not invalidate its page slices; it is the dma-buf core that re-scopes the views an
 * exporter hands it to each buffer's own arena, so an importer never keeps a view past its buffer. Contiguous views
 * of <em>scattered</em> allocations are aliases with an arena of their own, unmapped and invalidated when the
 * allocation closes.
 * <p>
 * Thread-safe: the allocator and the set of open allocations are guarded by the pool's monitor; charges go to the
 * engine's books, which never call back.
 */
public final class Pool implements PagePool {
    private final PoolHost host;
    private final PoolSpec spec;
    private final long ownerId;
    private final String owner;
    private final AddressSpace.Range range;
    private final Backing backing;
    private final PageAllocator pages;
    private final int chunkPages;
    private final Set<Allocation> open = new LinkedHashSet<>();
    private long nextId;
    private volatile boolean closed;

    /**
     * @param host    the engine
     * @param spec    what the device asked for
     * @param ownerId the bundle that created the pool and pays by default
     * @param owner   the owner for messages
     * @param range   where the pool lies in physical memory
     * @param backing the memory
     */
    public Pool(PoolHost host, PoolSpec spec, long ownerId, String owner, AddressSpace.Range range,
            Backing backing) {
        this.host = host;
        this.spec = spec;
        this.ownerId = ownerId;
        this.owner = owner;
        this.range = range;
        this.backing = backing;
        this.pages = new PageAllocator(spec.name(), Math.toIntExact(spec.size() >> DmaBufUapi.PAGE_SHIFT));
        this.chunkPages = (int) Math.min(Integer.MAX_VALUE, spec.maxChunk() >> DmaBufUapi.PAGE_SHIFT);
    }

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public long capacity() {
        return spec.size();
    }

    @Override
    public synchronized long available() {
        return closed ? 0 : (long) pages.freePages() << DmaBufUapi.PAGE_SHIFT;
    }

    @Override
    public Placement placement() {
        return spec.placement();
    }

    @Override
    public long highestAddress() {
        return range.end() - 1;
    }

    /** The first physical address. */
    public long physBase() {
        return range.start();
    }

    /** The physical range. */
    public AddressSpace.Range range() {
        return range;
    }

    /** The spec the pool was created from. */
    public PoolSpec spec() {
        return spec;
    }

    /** The owning bundle's id. */
    public long ownerId() {
        return ownerId;
    }

    /** What backs the pool: {@code memfd} or {@code arena}. */
    public String backingKind() {
        return backing.kind();
    }

    /** True once closed. */
    public boolean isClosed() {
        return closed;
    }

    /** Open allocations now. */
    public synchronized int openAllocations() {
        return open.size();
    }

    @Override
    public PageAllocation allocate(long bytes) {
        return allocate(bytes, ownerId);
    }

    @Override
    public PageAllocation allocate(long bytes, long chargeBundleId) {
        if (bytes <= 0 || bytes > Long.MAX_VALUE - (DmaBufUapi.PAGE_SIZE - 1)) {
            throw new DmaBufException(Errno.EINVAL, "pool '" + name() + "': cannot allocate " + bytes
                    + " bytes: the size must be positive and must not wrap when page-aligned");
        }
        long aligned = (bytes + DmaBufUapi.PAGE_SIZE - 1) & -(long) DmaBufUapi.PAGE_SIZE;
        long wanted = aligned >> DmaBufUapi.PAGE_SHIFT;
        synchronized (this) {
            if (closed) {
                throw closedError();
            }
            pages.checkEnough(wanted); // the pool's shortage first: no quota message for a request it cannot give
        }
        int n = (int) wanted;
        host.accounting().charge(name(), chargeBundleId, aligned);
        Allocation a;
        try {
            synchronized (this) {
                if (closed) {
                    throw closedError();
                }
                PageAllocator.Runs runs = spec.placement() == Placement.CONTIGUOUS ? pages.contiguous(n)
                        : pages.scattered(n, chunkPages);
                a = new Allocation(this, ++nextId, runs, chargeBundleId);
                open.add(a);
            }
        } catch (RuntimeException e) {
            host.accounting().uncharge(name(), chargeBundleId, aligned);
            throw e;
        }
        try {
            for (int r = 0; r < a.runCount(); r++) {
                linearSlice(a.runOffset(r), a.runBytes(r)).fill((byte) 0);
            }
        } catch (IllegalStateException poolClosedMeanwhile) {
            throw closedError();
        }
        return a;
    }

    /**
     * The memory at a bus address range of this pool, which must lie in allocated pages.
     *
     * @throws DmaBufException {@link Errno#EFAULT} naming the address otherwise
     */
    public MemorySegment resolve(long dmaAddress, long length) {
        long offset = dmaAddress - range.start();
        if (offset < 0 || length > range.size() - offset) {
            throw new DmaBufException(Errno.EFAULT, "DMA range " + Sizes.range(dmaAddress, dmaAddress + length)
                    + " does not lie within pool '" + name() + "' " + Sizes.range(range.start(), range.end())
                    + ": a DMA access must stay within one pool");
        }
        int first = (int) (offset >> DmaBufUapi.PAGE_SHIFT);
        int count = (int) (((offset + length - 1) >> DmaBufUapi.PAGE_SHIFT) - first + 1);
        synchronized (this) {
            if (closed) {
                throw new DmaBufException(Errno.EFAULT, "DMA address " + Sizes.hex(dmaAddress) + ": pool '"
                        + name() + "' is closed");
            }
            int free = pages.firstFree(first, count);
            if (free >= 0) {
                throw new DmaBufException(Errno.EFAULT, "DMA range " + Sizes.range(dmaAddress, dmaAddress + length)
                        + ": the page at " + Sizes.hex(range.start() + ((long) free << DmaBufUapi.PAGE_SHIFT))
                        + " of pool '" + name() + "' is not allocated");
            }
            return backing.linearMap().asSlice(offset, length);
        }
    }

    @Override
    public void close() {
        close(null);
    }

    /**
     * Closes the pool: invalidates and uncharges every allocation still open, returns the physical range and the
     * reservation, unmaps the memory. Reports once: at WARN when allocations were open or when {@code reclaimedFrom}
     * (the reason the engine closes a pool its owner left open) is given.
     *
     * @param reclaimedFrom null for the owner's own close; else what to say about why the engine closed it
     * @return true when this call closed the pool
     */
    public boolean close(String reclaimedFrom) {
        List<Allocation> leftover;
        synchronized (this) {
            if (closed) {
                return false;
            }
            closed = true;
            leftover = new ArrayList<>(open);
            open.clear();
        }
        long leftBytes = 0;
        StringBuilder list = new StringBuilder();
        for (Allocation a : leftover) {
            a.invalidate();
            host.accounting().uncharge(name(), a.chargeBundleId(), a.size());
            leftBytes += a.size();
            if (list.length() < 400) {
                list.append(list.isEmpty() ? "" : ", ").append(a.label()).append(" charged to ")
                        .append(host.accounting().who(a.chargeBundleId()));
            } else if (!list.toString().endsWith("...")) {
                list.append(", ...");
            }
        }
        String what = "pool '" + name() + "' (" + Sizes.bytes(capacity()) + " " + spec.placement() + " at "
                + Sizes.range(range.start(), range.end()) + ", owned by " + owner + ")";
        String opened = leftover.isEmpty() ? ""
                : " with " + leftover.size() + " allocation" + (leftover.size() == 1 ? "" : "s") + " still open ("
                        + Sizes.bytes(leftBytes) + ": " + list + "), freed; their CPU views are now invalid";
        if (reclaimedFrom != null) {
            host.log().warn(reclaimedFrom + " left " + what + " open; closed it" + opened);
        } else if (!leftover.isEmpty()) {
            host.log().warn(what + " closed" + opened
                    + ": an exporter must release its buffers before closing their pool");
        } else {
            host.log().debug(what + " closed");
        }
        host.poolClosed(this);
        backing.close();
        return true;
    }

    // ---- for Allocation

    void free(Allocation a) {
        synchronized (this) {
            if (closed || !open.remove(a)) {
                return; // the pool's close invalidated and uncharged it
            }
            pages.release(a.runs);
        }
        host.accounting().uncharge(name(), a.chargeBundleId(), a.size());
    }

    MemorySegment linearSlice(long offset, long bytes) {
        return backing.linearMap().asSlice(offset, bytes);
    }

    Backing backing() {
        return backing;
    }

    private DmaBufException closedError() {
        return new DmaBufException(Errno.ENODEV, "pool '" + name() + "' is closed");
    }

    @Override
    public String toString() {
        return "pool '" + name() + "'";
    }
}
