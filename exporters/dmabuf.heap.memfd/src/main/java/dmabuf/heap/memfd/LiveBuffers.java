package dmabuf.heap.memfd;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

import org.osgi.service.log.Logger;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;

/**
 * The buffers one allocator (a heap, udmabuf) has exported and not yet seen released, and the gate that keeps a stop
 * from racing an export: allocations run {@link #admit admitted} (shared), {@link #shutdown} takes the gate
 * exclusively (bounded), refuses later allocations, revokes every live buffer and waits, bounded, for releases still
 * running on other threads, so the allocator's resources close whole.
 */
final class LiveBuffers {
    /** The longest a stop waits for allocations in progress, and then for releases in progress. */
    static final long WAIT_MS = 5_000;

    private final String who;
    private final Set<MappedBufferOps> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong bytes = new AtomicLong();
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private volatile boolean closed;

    /** @param who the allocator, for messages */
    LiveBuffers(String who) {
        this.who = who;
    }

    /**
     * Runs an allocation unless the allocator is stopping ({@link Errno#ENOENT} then).
     *
     * @param allocation what to run
     * @return its result
     */
    <T> T admit(Supplier<T> allocation) {
        ReentrantReadWriteLock.ReadLock shared = gate.readLock();
        shared.lock(); // never long: the exclusive side holds it only to flip 'closed'
        try {
            if (closed) {
                throw new DmaBufException(Errno.ENOENT, who + " is being removed");
            }
            return allocation.get();
        } finally {
            shared.unlock();
        }
    }

    /**
     * Reserves bytes under a limit.
     *
     * @return false when the limit would be passed (nothing reserved)
     */
    boolean reserve(long length, long limit) {
        while (true) {
            long now = bytes.get();
            if (now + length > limit || now + length < 0) {
                return false;
            }
            if (bytes.compareAndSet(now, now + length)) {
                return true;
            }
        }
    }

    /** Gives reserved bytes back. */
    void unreserve(long length) {
        bytes.addAndGet(-length);
    }

    /** The bytes of live buffers (and allocations in progress). */
    long bytes() {
        return bytes.get();
    }

    /** A buffer was exported. */
    void add(MappedBufferOps ops) {
        live.add(ops);
    }

    /** A buffer's release ran (or its export failed): its bytes are free. */
    void released(MappedBufferOps ops) {
        if (live.remove(ops)) {
            bytes.addAndGet(-ops.region().length());
        }
        synchronized (live) {
            live.notifyAll();
        }
    }

    /** The ops of every live buffer. */
    List<MappedBufferOps> snapshot() {
        return List.copyOf(live);
    }

    /**
     * Stops admitting allocations, revokes every live buffer and waits (bounded) until every release ran.
     *
     * @param registry the allocator's registry, which exported the buffers
     * @param logger   where to say what could not be done
     * @return how many buffers were revoked
     */
    int shutdown(DmaBufRegistry registry, Logger logger) {
        ReentrantReadWriteLock.WriteLock exclusive = gate.writeLock();
        boolean locked = false;
        try {
            locked = exclusive.tryLock(WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true;
        if (locked) {
            exclusive.unlock();
        } else {
            logger.warn("{}: allocations did not finish within {} ms; stopping anyway", who, WAIT_MS);
        }
        int revoked = 0;
        for (MappedBufferOps ops : List.copyOf(live)) {
            DmaBuf buffer = ops.buffer();
            if (buffer == null || ops.isReleased()) {
                continue;
            }
            try {
                registry.revoke(buffer);
                revoked++;
            } catch (RuntimeException e) {
                // released meanwhile (EBADF), or the core is stopping
                logger.debug("{}: could not revoke {}: {}", who, buffer, e.getMessage());
            }
        }
        if (!awaitReleased(WAIT_MS)) {
            logger.warn("{}: {} buffer(s) were not released within {} ms (the core is stopping?); their mappings "
                    + "stay until the core releases them", who, live.size(), WAIT_MS);
        }
        return revoked;
    }

    private boolean awaitReleased(long timeoutMillis) {
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
}
