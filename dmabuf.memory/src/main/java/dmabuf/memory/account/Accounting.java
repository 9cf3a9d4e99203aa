package dmabuf.memory.account;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongFunction;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.api.memory.Placement;
import dmabuf.memory.MemoryConfig;
import dmabuf.memory.Sizes;

/**
 * The books: bytes reserved by pools against the global limit, bytes live (allocated) per pool and per bundle
 * against each bundle's quota, and their peaks. Every check and its charge happen under one lock, so two threads
 * can never both slip under a limit. Never calls out while holding its lock.
 */
public final class Accounting {
    /** How many pools a limit message lists before it summarises the rest. */
    private static final int LISTED = 8;

    private final LongFunction<String> bundleNames;
    private MemoryConfig config;
    private long reserved;
    private long live;
    private long peak;
    private final Map<String, PoolAccount> pools = new LinkedHashMap<>();
    private final Map<Long, BundleAccount> bundles = new TreeMap<>();

    /**
     * @param config      the limits
     * @param bundleNames a bundle's symbolic name by id, null for no such bundle: for charging a bundle that never
     *                    used the service itself
     */
    public Accounting(MemoryConfig config, LongFunction<String> bundleNames) {
        this.config = config;
        this.bundleNames = bundleNames;
    }

    private static final class PoolAccount {
        final String name;
        final long ownerId;
        final Placement placement;
        final long physBase;
        final long capacity;
        long live;
        long peak;
        long allocations;

        PoolAccount(String name, long ownerId, Placement placement, long physBase, long capacity) {
            this.name = name;
            this.ownerId = ownerId;
            this.placement = placement;
            this.physBase = physBase;
            this.capacity = capacity;
        }
    }

    private static final class BundleAccount {
        final long id;
        final String symbolicName;
        long reserved;
        long live;
        long peak;
        int users;

        BundleAccount(long id, String symbolicName) {
            this.id = id;
            this.symbolicName = symbolicName;
        }

        String who() {
            return Sizes.bundle(id, symbolicName);
        }
    }

    /** Applies new limits; nothing already reserved or allocated is touched. */
    public synchronized void configure(MemoryConfig newConfig) {
        this.config = newConfig;
    }

    /** The limits in force. */
    public synchronized MemoryConfig config() {
        return config;
    }

    /** A bundle starts using the service (its facade was created). */
    public synchronized void openBundle(long id, String symbolicName) {
        BundleAccount b = bundles.get(id);
        if (b == null) {
            b = new BundleAccount(id, symbolicName);
            bundles.put(id, b);
        }
        b.users++;
    }

    /** A bundle's facade is gone; its account stays while anything is still charged to it. */
    public synchronized void closeBundle(long id) {
        BundleAccount b = bundles.get(id);
        if (b != null) {
            b.users = Math.max(0, b.users - 1);
            prune(b);
        }
    }

    /** The bundle's name for messages, as the books know it. */
    public synchronized String who(long bundleId) {
        BundleAccount b = bundles.get(bundleId);
        return b != null ? b.who() : Sizes.bundle(bundleId, bundleNames.apply(bundleId));
    }

    /**
     * Reserves a pool's capacity against the global limit under its (unique) name.
     *
     * @throws DmaBufException {@link Errno#EINVAL} for a name in use; {@link Errno#ENOMEM} over the limit, naming
     *         the limit, what is reserved and by whom
     */
    public synchronized void reservePool(String name, long capacity, long ownerId, Placement placement,
            long physBase) {
        checkName(name);
        long limit = config.limitBytes();
        if (capacity > limit - reserved) {
            StringBuilder m = new StringBuilder();
            m.append("pool '").append(name).append("' of ").append(who(ownerId)).append(" needs ")
                    .append(Sizes.bytes(capacity)).append(", but the global limit is ").append(Sizes.bytes(limit))
                    .append(" and ").append(Sizes.bytes(reserved)).append(" are reserved");
            if (!pools.isEmpty()) {
                m.append(" by ");
                List<PoolAccount> bySize = new ArrayList<>(pools.values());
                bySize.sort(Comparator.comparingLong((PoolAccount p) -> p.capacity).reversed());
                for (int i = 0; i < bySize.size() && i < LISTED; i++) {
                    PoolAccount p = bySize.get(i);
                    m.append(i == 0 ? "" : ", ").append('\'').append(p.name).append("' (")
                            .append(Sizes.bytes(p.capacity)).append(", ").append(who(p.ownerId)).append(')');
                }
                if (bySize.size() > LISTED) {
                    m.append(" and ").append(bySize.size() - LISTED).append(" more pools");
                }
            }
            m.append("; raise '").append(MemoryConfig.LIMIT_KEY).append("' in configuration '")
                    .append(MemoryConfig.PID).append("' or close pools");
            throw new DmaBufException(Errno.ENOMEM, m.toString());
        }
        BundleAccount owner = account(ownerId);
        pools.put(name, new PoolAccount(name, ownerId, placement, physBase, capacity));
        reserved += capacity;
        owner.reserved += capacity;
    }

    /**
     * Refuses a pool name already in use.
     *
     * @throws DmaBufException {@link Errno#EINVAL} naming the pool's owner
     */
    public synchronized void checkName(String name) {
        PoolAccount existing = pools.get(name);
        if (existing != null) {
            throw new DmaBufException(Errno.EINVAL, "a pool named '" + name + "' already exists (owned by "
                    + who(existing.ownerId) + "): pool names are unique per platform");
        }
    }

    /** Returns a pool's reservation; whatever is still charged to its pools must have been uncharged first. */
    public synchronized void releasePool(String name) {
        PoolAccount p = pools.remove(name);
        if (p != null) {
            reserved -= p.capacity;
            BundleAccount owner = bundles.get(p.ownerId);
            if (owner != null) {
                owner.reserved -= p.capacity;
                prune(owner);
            }
        }
    }

    /**
     * Charges {@code bytes} allocated from {@code pool} to the bundle {@code bundleId}, within its quota.
     *
     * @throws DmaBufException {@link Errno#ENOMEM} over the quota, naming the bundle, its live bytes, the request,
     *         the quota and the configuration key; {@link Errno#EINVAL} for an unknown bundle;
     *         {@link Errno#ENODEV} when the pool is closed
     */
    public synchronized void charge(String pool, long bundleId, long bytes) {
        PoolAccount p = pools.get(pool);
        if (p == null) {
            throw new DmaBufException(Errno.ENODEV, "pool '" + pool + "' is closed");
        }
        BundleAccount b = bundles.get(bundleId);
        if (b == null) {
            String bsn = bundleNames.apply(bundleId);
            if (bsn == null) {
                throw new DmaBufException(Errno.EINVAL, "cannot charge an allocation from pool '" + pool
                        + "' to bundle id " + bundleId + ": no such bundle");
            }
            b = new BundleAccount(bundleId, bsn);
            bundles.put(bundleId, b);
        }
        long quota = config.quotaFor(b.symbolicName);
        if (quota > 0 && bytes > quota - b.live) {
            prune(b);
            throw new DmaBufException(Errno.ENOMEM, b.who() + " would exceed its quota: it has "
                    + Sizes.bytes(b.live) + " live, allocating " + Sizes.bytes(bytes) + " from pool '" + pool
                    + "' would make " + Sizes.bytes(b.live + bytes) + ", the quota is " + Sizes.bytes(quota)
                    + "; raise it with a '" + MemoryConfig.QUOTAS_KEY + "' entry '" + b.symbolicName
                    + "=<MB>' (or '" + MemoryConfig.QUOTA_KEY + "' for every bundle) in configuration '"
                    + MemoryConfig.PID + "', or free buffers");
        }
        b.live += bytes;
        b.peak = Math.max(b.peak, b.live);
        p.live += bytes;
        p.peak = Math.max(p.peak, p.live);
        p.allocations++;
        live += bytes;
        peak = Math.max(peak, live);
    }

    /** Takes back a {@link #charge}. */
    public synchronized void uncharge(String pool, long bundleId, long bytes) {
        PoolAccount p = pools.get(pool);
        if (p != null) {
            p.live -= bytes;
            p.allocations--;
        }
        BundleAccount b = bundles.get(bundleId);
        if (b != null) {
            b.live -= bytes;
            prune(b);
        }
        live -= bytes;
    }

    /** Bytes reserved by open pools. */
    public synchronized long reserved() {
        return reserved;
    }

    /** Bytes live in all pools. */
    public synchronized long live() {
        return live;
    }

    /** What a new configuration leaves over its limits, for the log; empty when nothing is. */
    public synchronized List<String> overLimits() {
        List<String> over = new ArrayList<>();
        if (reserved > config.limitBytes()) {
            over.add(Sizes.bytes(reserved) + " reserved, above the new limit of " + Sizes.bytes(config.limitBytes())
                    + " (no new pool until pools close)");
        }
        for (BundleAccount b : bundles.values()) {
            long quota = config.quotaFor(b.symbolicName);
            if (quota > 0 && b.live > quota) {
                over.add(b.who() + " has " + Sizes.bytes(b.live) + " live, above its new quota of "
                        + Sizes.bytes(quota) + " (no new allocation until it frees)");
            }
        }
        return over;
    }

    /** A snapshot of the books. */
    public synchronized MemoryStatsDTO snapshot() {
        MemoryStatsDTO dto = new MemoryStatsDTO();
        dto.limit = config.limitBytes();
        dto.reserved = reserved;
        dto.live = live;
        dto.peak = peak;
        List<PoolAccount> ps = new ArrayList<>(pools.values());
        ps.sort(Comparator.comparing((PoolAccount p) -> p.name));
        dto.pools = new MemoryStatsDTO.PoolStatsDTO[ps.size()];
        for (int i = 0; i < ps.size(); i++) {
            PoolAccount p = ps.get(i);
            MemoryStatsDTO.PoolStatsDTO d = new MemoryStatsDTO.PoolStatsDTO();
            d.name = p.name;
            d.bundleId = p.ownerId;
            d.placement = p.placement.name();
            d.physBase = p.physBase;
            d.capacity = p.capacity;
            d.live = p.live;
            d.peak = p.peak;
            d.allocations = p.allocations;
            dto.pools[i] = d;
        }
        dto.bundles = new MemoryStatsDTO.BundleStatsDTO[bundles.size()];
        int i = 0;
        for (BundleAccount b : bundles.values()) {
            MemoryStatsDTO.BundleStatsDTO d = new MemoryStatsDTO.BundleStatsDTO();
            d.bundleId = b.id;
            d.symbolicName = b.symbolicName;
            d.reserved = b.reserved;
            d.live = b.live;
            d.peak = b.peak;
            d.quota = config.quotaFor(b.symbolicName);
            dto.bundles[i++] = d;
        }
        return dto;
    }

    private BundleAccount account(long id) {
        BundleAccount b = bundles.get(id);
        if (b == null) {
            b = new BundleAccount(id, bundleNames.apply(id));
            bundles.put(id, b);
        }
        return b;
    }

    private void prune(BundleAccount b) {
        if (b.users == 0 && b.live == 0 && b.reserved == 0) {
            bundles.remove(b.id);
        }
    }
}
