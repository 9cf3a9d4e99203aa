package dmabuf.memory;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.LongFunction;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PoolSpec;
import dmabuf.memory.account.Accounting;
import dmabuf.memory.mapping.Backing;
import dmabuf.os.Libc;
import dmabuf.memory.pool.Pool;
import dmabuf.memory.pool.PoolHost;
import dmabuf.memory.zone.AddressSpace;

/**
 * The platform's physical memory, free of OSGi: the simulated physical address space with its zones, the pools
 * placed in it with their real (pre-faulted) memory, the books, and the bus-address lookup devices "DMA" through.
 * The OSGi component creates one per activation and hands every bundle a {@link BundleMemory} facade that charges
 * that bundle; tests do the same without a framework.
 *
 * <h2>DOC: creating a pool</h2>
 * Under the engine's lock, in this order: the name must be unused ({@link Errno#EINVAL}); the pool is placed in a
 * zone at or below its mask ({@link AddressSpace}, {@link Errno#ENOMEM} naming the mask and zones: checked first,
 * since a bigger limit would not help); its capacity is reserved against the global limit ({@link Errno#ENOMEM}
 * naming the limit and who reserved what). Then, outside the lock, the memory is mapped and pre-faulted (a memfd with
 * {@code MAP_POPULATE} on Linux, else arena memory); a failure there returns the range and the reservation.
 *
 * <h2>DOC: a bundle going away</h2>
 * {@link #closeBundle} (the service factory's unget) closes every pool the bundle left open, each reported once at
 * WARN naming the bundle and the pool (and the allocations that were still open in it).
 */
public final class MemoryEngine implements PoolHost {
    private final MemoryLog log;
    private final Accounting accounting;
    private final AddressSpace space = new AddressSpace();
    private final boolean nativeBacking;
    private final ConcurrentSkipListMap<Long, Pool> byAddress = new ConcurrentSkipListMap<>();
    private final Map<Pool, BundleMemory> ownerOf = new ConcurrentHashMap<>();
    private final Set<BundleMemory> facades = ConcurrentHashMap.newKeySet();
    private boolean stopped;

    /**
     * An engine backing pools with memfds where the system allows it.
     *
     * @param config      the limits
     * @param log         where messages go
     * @param bundleNames a bundle's symbolic name by id (null for none), for allocations charged to a bundle that
     *                    never used the service itself
     */
    public MemoryEngine(MemoryConfig config, MemoryLog log, LongFunction<String> bundleNames) {
        this(config, log, bundleNames, true);
    }

    /**
     * @param config        the limits
     * @param log           where messages go
     * @param bundleNames   a bundle's symbolic name by id (null for none)
     * @param nativeBacking false to back every pool with arena memory (no aliasing), as on a system without the
     *                      libc calls
     */
    public MemoryEngine(MemoryConfig config, MemoryLog log, LongFunction<String> bundleNames,
            boolean nativeBacking) {
        this.log = log;
        this.accounting = new Accounting(config, bundleNames);
        this.nativeBacking = nativeBacking && Libc.available();
        if (nativeBacking && !Libc.available()) {
            log.info("physical memory: pools are backed by arena memory, not memfds ("
                    + Libc.unavailableReason() + "): contiguous views of scattered allocations are not available");
        }
    }

    /** True when pools are backed by memfds (and scattered pages can be aliased). */
    public boolean nativeBacking() {
        return nativeBacking;
    }

    /**
     * A bundle starts using the service: its facade, which charges it.
     *
     * @param bundleId     the bundle's id
     * @param symbolicName its symbolic name (quotas are configured by it)
     * @return the facade
     */
    public BundleMemory openBundle(long bundleId, String symbolicName) {
        synchronized (this) {
            if (stopped) {
                throw stoppedError();
            }
            accounting.openBundle(bundleId, symbolicName);
            BundleMemory facade = new BundleMemory(this, bundleId, symbolicName);
            facades.add(facade);
            return facade;
        }
    }

    /**
     * A bundle stopped using the service: every pool it left open is closed and reported once. Idempotent.
     *
     * @param facade what {@link #openBundle} gave it
     */
    public void closeBundle(BundleMemory facade) {
        closeBundle(facade, facade.who() + " stopped using the memory service but");
    }

    private void closeBundle(BundleMemory facade, String reason) {
        List<Pool> left;
        synchronized (this) {
            if (!facades.remove(facade)) {
                return;
            }
            facade.markClosed();
            left = new ArrayList<>(facade.pools());
        }
        for (Pool p : left) {
            p.close(reason);
        }
        accounting.closeBundle(facade.bundleId());
    }

    /** Applies new limits; no pool or allocation is touched, and what is now over a limit is logged. */
    public void configure(MemoryConfig config) {
        accounting.configure(config);
        log.info("physical memory reconfigured: limit " + Sizes.bytes(config.limitBytes()) + ", default quota "
                + (config.defaultQuotaBytes() == 0 ? "none" : Sizes.bytes(config.defaultQuotaBytes()))
                + ", per-bundle quotas " + config.quotaBytes());
        for (String over : accounting.overLimits()) {
            log.info("physical memory: " + over);
        }
    }

    /** The limits in force. */
    public MemoryConfig config() {
        return accounting.config();
    }

    /** What is reserved, allocated and at its peak. */
    public MemoryStatsDTO stats() {
        return accounting.snapshot();
    }

    /** The address space, for diagnostics and tests. */
    public AddressSpace addressSpace() {
        return space;
    }

    /** The open pools in physical address order. */
    public List<PagePool> pools() {
        return List.copyOf(byAddress.values());
    }

    /**
     * The memory behind a bus address range, which must lie in allocated pages of one pool.
     *
     * @throws DmaBufException {@link Errno#EFAULT} naming the address otherwise; {@link Errno#EINVAL} for a length
     *         that is not positive
     */
    public MemorySegment resolve(long dmaAddress, long length) {
        if (length <= 0) {
            throw new DmaBufException(Errno.EINVAL, "resolve: length " + length + " is not positive");
        }
        Map.Entry<Long, Pool> e = byAddress.floorEntry(dmaAddress);
        if (e == null || dmaAddress >= e.getValue().range().end()) {
            throw new DmaBufException(Errno.EFAULT, "DMA address " + Sizes.hex(dmaAddress)
                    + " is not in any pool" + (e == null ? "" : " (the nearest below, '" + e.getValue().name()
                            + "', ends at " + Sizes.hex(e.getValue().range().end()) + ")"));
        }
        return e.getValue().resolve(dmaAddress, length);
    }

    /** Closes every pool (each reported) and refuses new ones: the component's deactivation. */
    public void shutdown() {
        List<BundleMemory> all;
        synchronized (this) {
            stopped = true;
            all = new ArrayList<>(facades);
        }
        for (BundleMemory f : all) {
            closeBundle(f, "the memory service is stopping: " + f.who() + " had");
        }
        for (Pool p : new ArrayList<>(byAddress.values())) {
            p.close("the memory service is stopping:");
        }
    }

    Pool createPool(PoolSpec spec, BundleMemory owner) {
        if (spec == null) {
            throw new DmaBufException(Errno.EINVAL, "createPool: the spec is null");
        }
        String name = spec.name();
        String who = owner.who();
        if ((spec.size() >> DmaBufUapi.PAGE_SHIFT) > Integer.MAX_VALUE) {
            throw new DmaBufException(Errno.ENOMEM, "pool '" + name + "' of " + who + ": "
                    + Sizes.bytes(spec.size()) + " is more than one pool can hold (2^31 pages)");
        }
        AddressSpace.Range range;
        synchronized (this) {
            if (stopped || owner.isClosed()) {
                throw stoppedError();
            }
            accounting.checkName(name);
            range = space.place("pool '" + name + "' of " + who, spec.size(), spec.dmaMask());
            try {
                accounting.reservePool(name, spec.size(), owner.bundleId(), spec.placement(), range.start());
            } catch (RuntimeException e) {
                space.free(range);
                throw e;
            }
        }
        long t0 = System.nanoTime();
        Backing backing;
        try {
            backing = Backing.create(name, spec.size(), nativeBacking, log::warn);
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                accounting.releasePool(name);
                space.free(range);
            }
            throw e;
        }
        long micros = (System.nanoTime() - t0) / 1000;
        Pool pool = new Pool(this, spec, owner.bundleId(), who, range, backing);
        synchronized (this) {
            if (!stopped && !owner.isClosed()) {
                byAddress.put(range.start(), pool);
                ownerOf.put(pool, owner);
                owner.pools().add(pool);
                log.info("pool '" + name + "' created for " + who + ": " + Sizes.bytes(spec.size()) + " "
                        + spec.placement() + " at " + Sizes.range(range.start(), range.end()) + " in "
                        + range.zone().name() + " (mask " + Sizes.hex(spec.dmaMask()) + "), " + backing.kind()
                        + ", pre-faulted in " + micros + " us");
                return pool;
            }
        }
        pool.close(null);
        throw stoppedError();
    }

    // ---- PoolHost

    @Override
    public Accounting accounting() {
        return accounting;
    }

    @Override
    public MemoryLog log() {
        return log;
    }

    @Override
    public void poolClosed(Pool pool) {
        synchronized (this) {
            byAddress.remove(pool.physBase(), pool);
            BundleMemory owner = ownerOf.remove(pool);
            if (owner != null) {
                owner.pools().remove(pool);
            }
            accounting.releasePool(pool.name());
            space.free(pool.range());
        }
    }

    private static DmaBufException stoppedError() {
        return new DmaBufException(Errno.ENODEV, "the physical memory service is stopped (or this bundle's use of "
                + "it ended): get the service again");
    }
}
