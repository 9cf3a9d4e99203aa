package dmabuf.core.sync;

import java.util.List;

import dmabuf.api.DmaBufUapi;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;
import dmabuf.core.file.OpenFile;

/**
 * Sync files: fds in a bundle's fd table that hold one fence. EXPORT_SYNC_FILE snapshots what a reader or writer
 * of a buffer must wait for; IMPORT_SYNC_FILE adds a sync file's fence to a buffer.
 */
public final class SyncFiles {
    private final FenceService fences;

    /** @param fences the core's fences */
    public SyncFiles(FenceService fences) {
        this.fences = fences;
    }

    private static void checkFlags(long flags, String op) {
        if ((flags & ~DmaBufUapi.DMA_BUF_SYNC_RW) != 0 || (flags & DmaBufUapi.DMA_BUF_SYNC_RW) == 0) {
            throw Errors.einval(String.format("%s flags 0x%x: give DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE or both, "
                    + "and no other bit", op, flags));
        }
    }

    /** {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE}. */
    public int export(Client client, int fd, long flags) {
        Buffer b = client.files().get(fd).buffer();
        checkFlags(flags, "EXPORT_SYNC_FILE");
        // a writer waits for everyone, a reader for writers
        DmaResvUsage usage = DmaResvUsage.forWrite((flags & DmaBufUapi.DMA_BUF_SYNC_WRITE) != 0);
        List<DmaFence> pending = b.resv().pending(usage);
        DmaFence snapshot = switch (pending.size()) {
            case 0 -> fences.stub();
            case 1 -> pending.get(0);
            default -> FenceArray.of(fences.newContextId(), pending, fences.core().log(), fences.signalling());
        };
        return install(client, snapshot);
    }

    /** {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE}. */
    public void importFence(Client client, int fd, int syncFd, long flags) {
        Buffer b = client.files().get(fd).buffer();
        checkFlags(flags, "IMPORT_SYNC_FILE");
        DmaFence fence = fence(client, syncFd);
        DmaResvUsage usage = (flags & DmaBufUapi.DMA_BUF_SYNC_WRITE) != 0 ? DmaResvUsage.WRITE : DmaResvUsage.READ;
        // unwrap a snapshot, as newer kernels do, so the buffer lists the real fences
        List<DmaFence> add = fence instanceof FenceArray array ? array.members() : List.of(fence);
        try (var ctx = fences.coreAcquireContext()) {
            ctx.lockAll(List.of(b.resv()));
            b.resv().reserveFences(add.size());
            for (DmaFence f : add) {
                b.resv().addFence(f, usage);
            }
        }
        fences.core().changed();
    }

    /** A new sync file holding the fence. */
    public int install(Client client, DmaFence fence) {
        if (fence == null) {
            throw Errors.einval("a sync file needs a fence, not null");
        }
        return client.files().install(OpenFile.syncFile(fence), fences.core().config().fdLimit());
    }

    /** The fence behind a sync file's fd. */
    public DmaFence fence(Client client, int syncFd) {
        OpenFile f = client.files().getAny(syncFd);
        if (!f.isSyncFile()) {
            throw Errors.einval("fd " + syncFd + " is a dma-buf, not a sync file");
        }
        return f.syncFence();
    }
}
