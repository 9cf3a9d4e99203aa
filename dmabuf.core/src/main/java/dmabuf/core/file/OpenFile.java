package dmabuf.core.file;

import dmabuf.api.DmaBufUapi;
import dmabuf.core.buffer.Buffer;

/**
 * One fd's view of a buffer: the buffer (the fd holds one reference to it) and the fd's flags. Immutable.
 *
 * @param buffer the buffer
 * @param flags  the access mode, optionally with {@link DmaBufUapi#O_CLOEXEC}
 */
public record OpenFile(Buffer buffer, int flags) {
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
