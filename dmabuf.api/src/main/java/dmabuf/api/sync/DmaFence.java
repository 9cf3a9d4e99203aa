package dmabuf.api.sync;

import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.Errno;

/**
 * A one-shot completion event, as the kernel's {@code struct dma_fence}. Only the core implements it; drivers get
 * fences from a {@link FenceContext}, a buffer's {@link DmaResv}, a sync file or the stub.
 * <p>
 * Contract (the kernel's dma-fence selftests check the same):
 * <ul>
 * <li>A fence signals at most once; {@link #signal()} on a signalled fence fails with {@link Errno#EALREADY}.</li>
 * <li>A callback added before the signal runs exactly once, on the signalling thread; {@link #addCallback} after the
 * signal returns false and never runs it; {@link #removeCallback} before the signal stops it from running. A signal
 * racing an add from another thread never loses the callback: either it runs or the add returned false.</li>
 * <li>An error set before signalling ({@link #setError}) shows in {@link #status()} and {@link #error()} only once the
 * fence is signalled.</li>
 * <li>Waits are bounded: a negative timeout is {@link Errno#EINVAL}, a zero timeout polls.</li>
 * </ul>
 * Signalling is not success: a signalled fence may carry an error, which waiters check with {@link #error()}.
 */
@ProviderType
public interface DmaFence {
    /** Called once when a fence signals. */
    @FunctionalInterface
    interface Callback {
        /**
         * The fence signalled. Runs on the signalling thread, so it must be quick and must not block; exceptions are
         * logged and do not stop the other callbacks.
         *
         * @param fence the fence that signalled
         */
        void signaled(DmaFence fence);
    }

    /** A signalling critical section of the calling thread; closing it ends the section. */
    interface SignallingSection extends AutoCloseable {
        /** Ends the section. */
        @Override
        void close();
    }

    /**
     * Marks the calling thread as doing the work this fence stands for, until the section is closed (the kernel's
     * {@code dma_fence_begin_signalling}). The work's dependencies were waited for through fences before it
     * started; inside the section the core's implicit-sync waits (CPU access, a static importer's map) are skipped,
     * because waiting there for fences, including those of later jobs that depend on this one, would deadlock.
     * Sections nest; close them on the thread that opened them.
     */
    SignallingSection beginSignalling();

    /** The id of the context (timeline) that issued it; 0 for the stub. */
    long context();

    /** Its sequence number on its context; fences of one context get growing numbers. */
    long seqno();

    /** The name of the driver that issued it (the kernel's {@code get_driver_name}). */
    String driverName();

    /** The name of its timeline (the kernel's {@code get_timeline_name}). */
    String timelineName();

    /** True once signalled. */
    boolean isSignaled();

    /**
     * Signals the fence: waiters wake and callbacks run, on this thread.
     *
     * @throws dmabuf.api.DmaBufException {@link Errno#EALREADY} if the fence was already signalled,
     *         {@link Errno#EPERM} for a fence that only signals itself (stub, sync-file snapshots)
     */
    void signal();

    /**
     * Records that the work failed; shows once the fence is signalled. Call it before {@link #signal()}.
     *
     * @param error the failure, not null
     * @throws dmabuf.api.DmaBufException {@link Errno#EALREADY} if the fence was already signalled,
     *         {@link Errno#EINVAL} for a null error
     */
    void setError(Errno error);

    /**
     * The kernel's {@code dma_fence_get_status}: 0 while pending, 1 when signalled without error, the negative errno
     * number when signalled with an error.
     */
    int status();

    /** The error the fence signalled with; empty while pending or when it signalled without error. */
    Optional<Errno> error();

    /**
     * Adds a callback that runs once when the fence signals.
     *
     * @param callback the callback, not null
     * @return true if it was added; false if the fence was already signalled (the callback never runs)
     */
    boolean addCallback(Callback callback);

    /**
     * Removes a callback added earlier (by identity).
     *
     * @param callback the callback
     * @return true if it was removed before it ran; false if it ran, is running or was never added
     */
    boolean removeCallback(Callback callback);

    /**
     * Waits until the fence signals, at most the timeout.
     *
     * @param timeout how long; 0 only tests
     * @param unit    its unit
     * @return true if signalled, false if the time ran out
     * @throws dmabuf.api.DmaBufException {@link Errno#EINVAL} for a negative timeout, {@link Errno#EINTR} if the
     *         thread was interrupted
     */
    boolean await(long timeout, TimeUnit unit);

    /** A stage that completes with this fence (normally, even with an error) when it signals. */
    CompletionStage<DmaFence> whenSignaled();

    /**
     * True if this fence comes after {@code other} on the same timeline.
     *
     * @throws dmabuf.api.DmaBufException {@link Errno#EINVAL} for fences of different contexts
     */
    boolean isLaterThan(DmaFence other);
}
