package dmabuf.api;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.FenceContext;

/**
 * The synchronisation part of the registry: fence contexts, the stub fence, acquire contexts, {@code poll} on a
 * buffer's fd and sync files (see {@link dmabuf.api.sync}). {@link DmaBufRegistry} extends it, so every bundle's
 * registry offers it with the same per-bundle scoping: contexts and sync-file fds belong to the calling bundle.
 */
@ProviderType
public interface DmaBufFences {
    /**
     * A new fence timeline owned by the calling bundle (the kernel's {@code dma_fence_context_alloc}). When the
     * bundle stops, its unsignalled fences are signalled with {@link Errno#ENODEV}.
     *
     * @param driverName   the driver, as its fences report it (not blank)
     * @param timelineName the engine or ring, as its fences report it (not blank)
     * @throws DmaBufException {@link Errno#EINVAL} for a blank name
     */
    FenceContext fenceContext(String driverName, String timelineName);

    /** The always-signalled stub fence (the kernel's {@code dma_fence_get_stub}). */
    DmaFence stubFence();

    /** A new acquire context for locking several reservation objects; its lock waits are bounded. */
    AcquireContext acquireContext();

    /**
     * {@code poll} on a dma-buf fd: {@link DmaBufUapi#POLLIN} is ready when no write fence is pending,
     * {@link DmaBufUapi#POLLOUT} when no fence at all (but BOOKKEEP) is pending, {@link DmaBufUapi#POLLERR} when the
     * buffer was revoked. Waits until one requested event is ready or the time runs out.
     *
     * @param fd      a dma-buf fd of the calling bundle
     * @param events  the events wanted ({@code POLLIN|POLLOUT}); 0 returns 0 at once
     * @param timeout how long at most; 0 only tests
     * @param unit    its unit
     * @return the ready events among those requested, plus {@code POLLERR}; 0 when the time ran out
     * @throws DmaBufException {@link Errno#EBADF} for a bad fd, {@link Errno#EINVAL} for a negative timeout,
     *         {@link Errno#EINTR} if interrupted
     */
    int poll(int fd, int events, long timeout, TimeUnit unit);

    /**
     * {@code poll} without blocking: the stage completes with the ready events as soon as one requested event is
     * ready (at once if it is now). The buffer is kept alive (a reference is held) until the stage completes.
     *
     * @throws DmaBufException {@link Errno#EBADF} for a bad fd, {@link Errno#EINVAL} for no events
     */
    CompletionStage<Integer> pollAsync(int fd, int events);

    /**
     * {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE}: a sync file holding a snapshot of what a reader
     * ({@link DmaBufUapi#DMA_BUF_SYNC_READ}: the write fences) or a writer ({@link DmaBufUapi#DMA_BUF_SYNC_WRITE}:
     * all fences) of the buffer must wait for; an already-signalled fence when there is nothing to wait for.
     *
     * @param fd    a dma-buf fd of the calling bundle
     * @param flags a non-empty subset of {@code DMA_BUF_SYNC_RW}
     * @return the sync file's fd in the calling bundle's fd table (close it with {@link DmaBufRegistry#close})
     * @throws DmaBufException {@link Errno#EINVAL} for flags 0 or unknown bits, {@link Errno#EMFILE} at the fd limit
     */
    int exportSyncFile(int fd, long flags);

    /**
     * {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE}: adds a sync file's fence to the buffer, as a write fence when
     * {@link DmaBufUapi#DMA_BUF_SYNC_WRITE} is set, else as a read fence.
     *
     * @throws DmaBufException {@link Errno#EINVAL} for bad flags or a {@code syncFd} that is not a sync file,
     *         {@link Errno#EBADF} for a bad fd
     */
    void importSyncFile(int fd, int syncFd, long flags);

    /**
     * A new sync file holding the fence (the kernel's {@code sync_file_create} plus {@code fd_install}).
     *
     * @return its fd in the calling bundle's fd table
     */
    int syncFileFd(DmaFence fence);

    /**
     * The fence a sync file holds (the kernel's {@code sync_file_get_fence}).
     *
     * @throws DmaBufException {@link Errno#EINVAL} when the fd is not a sync file, {@link Errno#EBADF} when it is not
     *         open
     */
    DmaFence syncFileFence(int syncFd);
}
