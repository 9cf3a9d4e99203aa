package dmabuf.core.file;

import dmabuf.api.DmaBufUapi;
import dmabuf.api.sync.DmaFence;
import dmabuf.core.buffer.Buffer;

/**
 * One fd's open file: a dma-buf (the fd holds one reference to the buffer) and the fd's flags, or a sync file
 * holding one fence (then {@code buffer} is null). Immutable.
 *
 * @param buffer    the buffer, or null for a sync file
 * @param flags     the access mode, optionally with {@link DmaBufUapi#O_CLOEXEC}
 * @param syncFence the fence of a sync file, or null for a dma-buf
 */
public record OpenFile(Buffer buffer, int flags, DmaFence syncFence) {
    /** A dma-buf fd's file. */
    public OpenFile(Buffer buffer, int flags) {
        this(buffer, flags, null);
    }

    /** A sync file (always close-on-exec, as the kernel makes them). */
    public static OpenFile syncFile(DmaFence fence) {
        return new OpenFile(null, DmaBufUapi.O_RDONLY | DmaBufUapi.O_CLOEXEC, fence);
    }

    /** True for a sync file. */
    public boolean isSyncFile() {
        return syncFence != null;
    }

    /** True when the fd was opened for reading. */
    public boolean readable() {
        int mode = flags & DmaBufUapi.O_ACCMODE;
        return mode == DmaBufUapi.O_RDONLY || mode == DmaBufUapi.O_RDWR;
    }

    /** True when the fd was opened for writing. */
    public boolean writable() {
        int mode = flags & DmaBufUapi.O_ACCMODE;
        return mode == DmaBufUapi.O_WRONLY || mode == DmaBufUapi.O_RDWR;
    }
}
