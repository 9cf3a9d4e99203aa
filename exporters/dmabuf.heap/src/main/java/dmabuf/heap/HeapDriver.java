package dmabuf.heap;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.osgi.framework.BundleContext;
import org.osgi.service.log.Logger;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.heap.DmaHeap;
import dmabuf.api.heap.DmaHeapRegistration;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.api.memory.PoolSpec;

/**
 * What both heaps do; they differ only in the pool they create. One instance per activation.
 *
 * <h2>DOC: life</h2>
 * Start (the component's constructor): the pool is created (pre-faulted, charged to this bundle), the heap's
 * {@link DmaBufExporter} service is registered ({@link ExporterPublication}), and the heap is added to the core under
 * its name ({@link DmaBufRegistry#addHeap}); whatever fails undoes the steps before it. Stop ({@link #stop}): the
 * registration is closed first, so no new allocation starts; allocations already inside {@link #allocate} are waited
 * for (bounded); every buffer still alive is revoked ({@link DmaBufRegistry#revoke}: importers' later operations are
 * {@link Errno#ENODEV}, the buffer's release runs and returns its pages); the exporter service is withdrawn; releases
 * still running on other threads (a last fd closed at that moment, which the core no longer lets the heap revoke) are
 * waited for (bounded); the pool is closed last, whole.
 *
 * <h2>DOC: allocate</h2>
 * The core has checked the request ({@code length} page-aligned and positive, flags valid). The pages come from the
 * pool charged to the caller's quota ({@link PagePool#allocate(long, long)}); {@link Errno#ENOMEM} (the pool is
 * full, too fragmented for a contiguous run, or the caller is over its quota) passes through with the pool's message
 * prefixed by the heap's name and the caller. The pages are exported from this bundle with the caller's access mode
 * under the heap's exporter service ({@code heap:<name>}), and the buffer is returned holding that one reference,
 * which the core moves into the caller's fd.
 *
 * <h2>DOC: configuration changes</h2>
 * No change revokes a buffer. A new name re-registers the heap: the new name is added first (a name already taken is
 * {@link Errno#EINVAL}: the heap keeps its old name and says so in the log), then the exporter service's properties
 * follow, then the old name is removed. Buffers allocated before keep working and keep the exporter name they were
 * exported with. Pool parameters (size, DMA mask) cannot change under live buffers: they apply on the next start,
 * and the log says so.
 */
abstract class HeapDriver implements DmaHeap, DmaBufExporter {
    /** One MiB. */
    static final long MIB = 1L << 20;
    /** The largest pool a heap configuration may ask for: 1 TiB. */
    static final long MAX_SIZE_MB = 1L << 20;
    /** The longest stop and rename wait for allocations in progress. */
    static final long GATE_WAIT_MS = 5_000;
    /** The longest stop waits for releases running on other threads (a last fd closed just now). */
    static final long RELEASE_WAIT_MS = 5_000;

    private final String pid;
    private final DmaBufRegistry registry;
    private final Logger logger;
    private final PagePool pool;
    private final ExporterPublication publication;
    /** The ops of every buffer exported whose release has not run yet; notified when one goes. */
    private final Set<HeapBufferOps> live = ConcurrentHashMap.newKeySet();
    /** Allocations hold it shared; a rename or stop holds it exclusively, so neither races an export. */
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private volatile String name;
    private volatile DmaHeapRegistration registration;
    private volatile boolean stopped;

    /**
     * Starts the heap: pool, exporter service, heap registration.
     *
     * @param pid      the configuration PID, for messages
     * @param name     the heap's name
     * @param spec     the pool to create
     * @param context  this bundle's context, to register the exporter service
     * @param registry this bundle's dma-buf registry
     * @param memory   this bundle's physical memory
     * @param logger   the component's logger
     */
    HeapDriver(String pid, String name, PoolSpec spec, BundleContext context, DmaBufRegistry registry,
            PhysicalMemory memory, Logger logger) {
        this.pid = pid;
        this.registry = registry;
        this.logger = logger;
        this.name = name;
        PagePool created = memory.createPool(spec);
        ExporterPublication published = null;
        try {
            published = ExporterPublication.register(context, this, name, spec.placement().name());
            this.pool = created;
            this.publication = published;
            this.registration = registry.addHeap(name, this);
        } catch (RuntimeException e) {
            if (published != null) {
                published.unregister();
            }
            created.close();
            throw e;
        }
        logger.info("dma-heap '{}' registered: {} {} pool '{}' of {} MiB up to physical address 0x{}, exporter "
                + "'{}'", name, spec.placement(), kindOf(spec), spec.name(), spec.size() / MIB,
                Long.toHexString(created.highestAddress()), ExporterPublication.exporterName(name));
    }

    private static String kindOf(PoolSpec spec) {
        return switch (spec.placement()) {
            case SCATTERED -> "(chunks of up to " + spec.maxChunk() / 1024 + " KiB)";
            case CONTIGUOUS -> "(one contiguous run per buffer)";
        };
    }

    /** The name of the pool of a heap with this name. */
    static String poolName(String heapName) {
        return ExporterPublication.DEVICE_PREFIX + heapName;
    }

    /**
     * The pool size for {@code size.mb}.
     *
     * @throws IllegalArgumentException naming the PID for a size that is not between 1 MiB and 1 TiB
     */
    static long poolBytes(String pid, long sizeMb) {
        if (sizeMb < 1 || sizeMb > MAX_SIZE_MB) {
            throw new IllegalArgumentException("invalid configuration of " + pid + ": size.mb=" + sizeMb
                    + " must be between 1 and " + MAX_SIZE_MB);
        }
        return sizeMb * MIB;
    }

    /**
     * Checks a configured name the way the core will, so a bad one fails before the pool is created.
     *
     * @throws IllegalArgumentException naming the PID
     */
    static String checkName(String pid, String name) {
        if (name == null || name.isEmpty() || name.indexOf('/') >= 0) {
            throw new IllegalArgumentException("invalid configuration of " + pid + ": name='" + name
                    + "' must not be empty and must not contain '/'");
        }
        return name;
    }

    // ---- the heap

    @Override
    public DmaBuf allocate(long length, int accessMode, long heapFlags, long callerBundleId) {
        ReentrantReadWriteLock.ReadLock shared = gate.readLock();
        shared.lock();
        try {
            String heapName = name;
            if (stopped) {
                throw new DmaBufException(Errno.ENOENT, "dma-heap '" + heapName + "' is being removed");
            }
            PageAllocation allocation;
            try {
                allocation = pool.allocate(length, callerBundleId);
            } catch (DmaBufException e) {
                if (e.errno() != Errno.ENOMEM) {
                    throw e;
                }
                throw new DmaBufException(Errno.ENOMEM, "dma-heap '" + heapName + "' cannot give " + length
                        + " bytes to bundle " + callerBundleId + ": " + reason(e), e);
            }
            HeapBufferOps ops = new HeapBufferOps(allocation, heapName, this::released);
            live.add(ops);
            DmaBuf buffer;
            try {
                buffer = registry.export(ExportInfo.builder(ops, length)
                        .flags(accessMode)
                        .exporter(ExporterPublication.exporterName(heapName))
                        .build());
            } catch (RuntimeException e) {
                // Nothing was exported, so release will never run for these ops: the pages go back here.
                live.remove(ops);
                allocation.close();
                throw e;
            }
            ops.exportedAs(buffer);
            return buffer;
        } finally {
            shared.unlock();
        }
    }

    /** A buffer's release ran: its pages are back in the pool. */
    private void released(HeapBufferOps ops) {
        live.remove(ops);
        synchronized (live) {
            live.notifyAll();
        }
    }

    /** Waits, bounded, until every buffer's release has run; true when none is left. */
    private boolean awaitAllReleased(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (live) {
            while (!live.isEmpty()) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                try {
                    live.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return live.isEmpty();
                }
            }
            return true;
        }
    }

    /** The message of a refusal without its errno prefix. */
    private static String reason(DmaBufException e) {
        String m = e.getMessage();
        String prefix = e.errno().name() + ": ";
        return m != null && m.startsWith(prefix) ? m.substring(prefix.length()) : m;
    }

    // ---- configuration

    /** The heap's current name. */
    String name() {
        return name;
    }

    /** The pool. */
    PagePool pool() {
        return pool;
    }

    /** The ops of every buffer whose release has not run yet. */
    List<HeapBufferOps> liveBuffers() {
        return List.copyOf(live);
    }

    /** True once {@link #stop()} ran. */
    boolean isStopped() {
        return stopped;
    }

    /**
     * Logs that a changed pool parameter applies on the next start only.
     *
     * @param key        the configuration key
     * @param running    the value the running heap uses
     * @param configured the new value
     */
    void restartOnly(String key, String running, String configured) {
        if (!running.equals(configured)) {
            logger.info("dma-heap '{}': {} changed from {} to {}; this takes effect on restart (the running heap "
                    + "keeps its pool, which holds the pages of {} live buffer(s))", name, key, running, configured,
                    live.size());
        }
    }

    /**
     * Re-registers the heap under a new name without touching live buffers. A name the core refuses (taken, empty,
     * with a '/') leaves the heap under its old name, and the log says why.
     *
     * @param newName the configured name
     */
    void rename(String newName) {
        if (newName == null || newName.equals(name)) {
            return;
        }
        ReentrantReadWriteLock.WriteLock exclusive = gate.writeLock();
        if (!lockBounded(exclusive)) {
            logger.warn("dma-heap '{}': allocations did not finish within {} ms; the rename to '{}' is not "
                    + "applied", name, GATE_WAIT_MS, newName);
            return;
        }
        try {
            if (stopped) {
                return;
            }
            String old = name;
            DmaHeapRegistration added;
            try {
                added = registry.addHeap(newName, this);
            } catch (DmaBufException e) {
                logger.error("dma-heap '{}' cannot be renamed to '{}' ({} name={}): {}; it keeps the name '{}'",
                        old, newName, pid, newName, e.getMessage(), old);
                return;
            }
            try {
                publication.rename(newName);
            } catch (RuntimeException e) {
                added.close();
                logger.error("dma-heap '{}' cannot be renamed to '{}': its exporter service could not follow: {}; "
                        + "it keeps the name '{}'", old, newName, e.toString(), old);
                return;
            }
            DmaHeapRegistration previous = registration;
            name = newName;
            registration = added;
            previous.close();
            logger.info("dma-heap '{}' renamed to '{}' (exporter '{}'); {} live buffer(s) stay usable", old, newName,
                    ExporterPublication.exporterName(newName), live.size());
        } finally {
            exclusive.unlock();
        }
    }

    // ---- stop

    /**
     * Removes the heap, revokes every buffer still alive, withdraws the exporter service and closes the pool.
     * Idempotent.
     */
    void stop() {
        if (stopped) {
            return;
        }
        registration.close(); // first: no new allocation reaches this heap
        ReentrantReadWriteLock.WriteLock exclusive = gate.writeLock();
        boolean locked = lockBounded(exclusive);
        stopped = true;
        if (locked) {
            exclusive.unlock();
        } else {
            logger.warn("dma-heap '{}': allocations did not finish within {} ms; stopping anyway", name,
                    GATE_WAIT_MS);
        }
        int revoked = 0;
        for (HeapBufferOps ops : List.copyOf(live)) {
            DmaBuf buffer = ops.buffer();
            if (buffer == null || ops.isReleased()) {
                continue;
            }
            try {
                registry.revoke(buffer);
                revoked++;
            } catch (RuntimeException e) {
                // Released meanwhile (EBADF), or the core is gone (its static reference is what stops us).
                logger.debug("dma-heap '{}': could not revoke {}: {}", name, buffer, e.getMessage());
            }
        }
        publication.unregister();
        // A buffer whose last reference went on another thread just now is past revocation (the core refuses to
        // revoke a released buffer) but its release may still be running: wait for it, so the pool closes whole.
        if (!awaitAllReleased(RELEASE_WAIT_MS)) {
            logger.warn("dma-heap '{}': {} buffer(s) were not released within {} ms (the core is stopping?); "
                    + "closing the pool frees their pages and invalidates their views", name, live.size(),
                    RELEASE_WAIT_MS);
        }
        pool.close();
        logger.info("dma-heap '{}' removed: {} live buffer(s) revoked, pool closed", name, revoked);
    }

    private static boolean lockBounded(ReentrantReadWriteLock.WriteLock lock) {
        try {
            return lock.tryLock(GATE_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public String toString() {
        return "dma-heap '" + name + "'";
    }
}
