package dmabuf.memory.pool;

import dmabuf.memory.MemoryLog;
import dmabuf.memory.account.Accounting;

/** What a pool needs from the engine that owns it. */
public interface PoolHost {
    /** The books every allocation is charged in. */
    Accounting accounting();

    /** Where reports go. */
    MemoryLog log();

    /**
     * The pool has closed (its allocations are invalidated and uncharged): forget it, return its physical range and
     * its reservation. Called once, before the pool's memory is unmapped.
     */
    void poolClosed(Pool pool);
}
