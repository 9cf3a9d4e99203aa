package dmabuf.heap.memfd;

import java.util.function.Consumer;

import dmabuf.api.DmaBuf;
import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.NativeException;

/**
 * A buffer that is one real file mapped whole (a fd heap buffer, a kernel dma-buf): {@link MappedBufferOps} that
 * own the file's fd and close it after the mapping at release. Its {@link #osFd} is a {@code dup} of the fd: a native
 * process mapping that fd sees the very pages importers here see.
 */
class FileBufferOps extends MappedBufferOps {
    private final int fd;

    /**
     * @param what      a description for messages
     * @param fd     the buffer's file, owned by these ops from now on
     * @param region    the file mapped whole
     * @param onRelease told after the mapping and the file are gone
     */
    FileBufferOps(String what, int fd, MappedRegion region, Consumer<MappedBufferOps> onRelease) {
        super(what, region, onRelease);
        this.fd = fd;
    }

    /** The file's fd (the exporter's own; never handed out: {@link #osFd} gives dups). */
    final int fd() {
        return fd;
    }

    /** A new fd for the file; the core keeps the buffer from being released while this runs. */
    @Override
    public int osFd(DmaBuf dmaBuf, boolean closeOnExec) {
        try {
            return Libc.dup(fd, closeOnExec);
        } catch (NativeException e) {
            throw OsErrors.failed("dup of the fd of " + this, e);
        }
    }

    /** Closes the file; a native process holding a dup keeps the pages alive in the kernel. */
    @Override
    void closeFiles() {
        Libc.close(fd);
    }
}
