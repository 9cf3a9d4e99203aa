package dmabuf.api.sync;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A buffer's reservation object, as the kernel's {@code struct dma_resv}: the fences of the work that uses the
 * buffer, each with a {@link DmaResvUsage}, and the lock that serialises their update.
 * <p>
 * Updating: lock it through an {@link AcquireContext}, {@link #reserveFences reserve} slots, then
 * {@link #addFence add} at most that many fences, then unlock (the reservation ends with the lock). An added fence
 * replaces signalled fences and earlier fences of the same context whose usage is not stricter.
 * <p>
 * Reading needs no lock: {@link #fences} and the waits work on a snapshot, so they are safe against concurrent
 * updates, and fences added after the call are not waited for.
 */
@ProviderType
public interface DmaResv {
    /** A fence and how it uses the buffer. */
    record Entry(DmaFence fence, DmaResvUsage usage) {
    }

    /**
     * Reserves slots for fences about to be added under the current lock.
     *
     * @param count how many more fences may be added, at least 0
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EINVAL} for a negative count,
     *         {@link dmabuf.api.Errno#EPERM} when the calling thread does not hold the lock
     */
    void reserveFences(int count);

    /**
     * Adds a fence.
     *
     * @param fence the fence, not null
     * @param usage how it uses the buffer, not null
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EPERM} when the calling thread does not hold the
     *         lock, {@link dmabuf.api.Errno#EINVAL} when no slot is reserved or an argument is null
     */
    void addFence(DmaFence fence, DmaResvUsage usage);

    /** A snapshot of the fences whose usage is at or below {@code usage}, signalled ones included. */
    List<Entry> fences(DmaResvUsage usage);

    /** True if every fence at or below {@code usage} has signalled (the kernel's {@code dma_resv_test_signaled}). */
    boolean testSignaled(DmaResvUsage usage);

    /**
     * Waits until every fence at or below {@code usage} (of the snapshot taken now) has signalled.
     *
     * @return true if they did, false when the time ran out
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EINVAL} for a negative timeout,
     *         {@link dmabuf.api.Errno#EINTR} if interrupted
     */
    boolean await(DmaResvUsage usage, long timeout, TimeUnit unit);

    /** A stage that completes when every fence at or below {@code usage} (of the snapshot taken now) signalled. */
    CompletionStage<Void> whenSignaled(DmaResvUsage usage);

    /** True while some acquire context holds the lock. */
    boolean isLocked();
}
