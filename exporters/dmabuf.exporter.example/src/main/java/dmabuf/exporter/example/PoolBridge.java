package dmabuf.exporter.example;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;

/**
 * This exporter's frame pool and per-frame ops, for code that drives the driver without a framework (the JMH
 * benchmarks in {@code benchmarks/}): exports frames from pre-faulted pool slots exactly as {@link PatternExporter}
 * does, without its producer thread and pattern. Public only for that; its package is private to the bundle, so no
 * other bundle can reach it.
 */
public final class PoolBridge implements AutoCloseable {
    private final FramePool pool;
    private final DmaBufRegistry registry;
    private final boolean cacheTables;

    /**
     * Allocates and pre-touches the pool.
     *
     * @param registry    the exporting bundle's registry
     * @param slots       the number of frame buffers
     * @param frameBytes  the size of one frame
     * @param cacheTables true to have the core cache each attachment's table (see {@link FrameOps#cacheSgtMapping})
     */
    public PoolBridge(DmaBufRegistry registry, int slots, long frameBytes, boolean cacheTables) {
        this.registry = registry;
        this.cacheTables = cacheTables;
        this.pool = new FramePool(slots, frameBytes);
    }

    /**
     * Exports the next free slot as a buffer holding one reference of the exporting bundle; its release gives the
     * slot back.
     *
     * @throws DmaBufException {@link Errno#EBUSY} when every slot is lent out
     */
    public DmaBuf export() {
        FramePool.Slot slot = pool.poll();
        if (slot == null) {
            throw new DmaBufException(Errno.EBUSY, "all " + pool.size() + " frame buffers are lent out");
        }
        FrameOps ops = new FrameOps(pool, slot, PoolBridge::released, cacheTables);
        try {
            DmaBuf buffer = registry.export(ExportInfo.builder(ops, pool.frameBytes()).build());
            ops.exportedAs(buffer);
            return buffer;
        } catch (RuntimeException e) {
            pool.give(slot);
            throw e;
        }
    }

    private static void released(FrameOps ops) {
        // nothing to track: the slot is back in the pool
    }

    /** The storage of slot {@code index}, to check that importers see the exporter's memory itself. */
    public MemorySegment storage(int index) {
        return pool.slot(index).storage();
    }

    /** The number of free slots. */
    public int freeCount() {
        return pool.freeCount();
    }

    /** Frees the pool; every slot must be back ({@link FramePool#close()}). */
    @Override
    public void close() {
        pool.close();
    }

    /** Waits, at most the timeout, until every slot is back. */
    public boolean awaitAllFree(long timeout, TimeUnit unit) throws InterruptedException {
        return pool.awaitAllFree(timeout, unit);
    }
}
