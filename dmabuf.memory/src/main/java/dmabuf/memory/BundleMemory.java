package dmabuf.memory;

import java.lang.foreign.MemorySegment;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.api.memory.PoolSpec;
import dmabuf.memory.pool.Pool;

/**
 * One bundle's {@link PhysicalMemory}: its pools are owned by and charged to it, and closed (and reported) by
 * {@link MemoryEngine#closeBundle} if it goes away without closing them.
 */
public final class BundleMemory implements PhysicalMemory {
    private final MemoryEngine engine;
    private final long bundleId;
    private final String symbolicName;
    private final Set<Pool> pools = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    BundleMemory(MemoryEngine engine, long bundleId, String symbolicName) {
        this.engine = engine;
        this.bundleId = bundleId;
        this.symbolicName = symbolicName;
    }

    @Override
    public PagePool createPool(PoolSpec spec) {
        return engine.createPool(spec, this);
    }

    @Override
    public MemorySegment resolve(long dmaAddress, long length) {
        return engine.resolve(dmaAddress, length);
    }

    @Override
    public MemoryStatsDTO stats() {
        return engine.stats();
    }

    /** The bundle's id. */
    public long bundleId() {
        return bundleId;
    }

    /** The bundle's symbolic name. */
    public String symbolicName() {
        return symbolicName;
    }

    /** True once the bundle stopped using the service. */
    public boolean isClosed() {
        return closed;
    }

    String who() {
        return Sizes.bundle(bundleId, symbolicName);
    }

    Set<Pool> pools() {
        return pools;
    }

    void markClosed() {
        closed = true;
    }

    @Override
    public String toString() {
        return "PhysicalMemory of " + who();
    }
}
