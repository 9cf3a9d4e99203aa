package dmabuf.api.sync;

import java.util.Collection;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One transaction that locks several reservation objects, as the kernel's {@code ww_acquire_ctx} with wait-die
 * wound/wait mutexes: jobs may lock the same buffers in any order from many threads without deadlock.
 * <p>
 * Each context has a stamp (its age) taken at creation and kept across retries, so it eventually becomes the oldest
 * and wins. When a context that already holds locks meets a lock held by an older context it must back off:
 * {@link #lock} fails with {@link dmabuf.api.Errno#EDEADLK}; the caller unlocks everything
 * ({@link #unlockAll()}), waits for the contended lock with {@link #lockSlow}, and locks the rest again.
 * {@link #lockAll} does that loop. An older context waits for a younger one (bounded by the core's lock timeout,
 * {@link dmabuf.api.Errno#ETIMEDOUT} beyond).
 * <p>
 * Use it from one thread at a time; close it (unlocks what is still held) when the transaction is done.
 */
@ProviderType
public interface AcquireContext extends AutoCloseable {
    /**
     * Locks one reservation object.
     *
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EDEADLK} when this context must back off,
     *         {@link dmabuf.api.Errno#EALREADY} when it holds the lock already, {@link dmabuf.api.Errno#ETIMEDOUT}
     *         when the wait ran out, {@link dmabuf.api.Errno#EINVAL} after {@link #done()} or {@link #close()}
     */
    void lock(DmaResv resv);

    /**
     * After a back-off (holding nothing): waits for the contended lock without dying, then holds it.
     *
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EINVAL} while this context holds other locks,
     *         {@link dmabuf.api.Errno#ETIMEDOUT} when the wait ran out
     */
    void lockSlow(DmaResv resv);

    /**
     * Locks all of them, in the given order, backing off and retrying as the protocol requires.
     *
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#ETIMEDOUT} when a wait ran out (nothing is held
     *         then)
     */
    void lockAll(Collection<? extends DmaResv> resvs);

    /** Unlocks one reservation object this context holds ({@link dmabuf.api.Errno#EPERM} if it does not). */
    void unlock(DmaResv resv);

    /** Unlocks everything this context holds. */
    void unlockAll();

    /** Marks the end of the acquire phase (the kernel's {@code ww_acquire_done}): no more locks. */
    void done();

    /** The stamp: a lower stamp is an older context. */
    long stamp();

    /** How often this context had to back off so far. */
    int backoffs();

    /** Unlocks everything still held; the context cannot lock again. */
    @Override
    void close();
}
