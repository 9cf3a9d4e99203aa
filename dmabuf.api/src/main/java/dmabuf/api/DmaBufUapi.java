package dmabuf.api;

/**
 * The numbers of the kernel's user API that the registry takes: {@code <linux/dma-buf.h>}, and the parts of
 * {@code <fcntl.h>}, {@code <sys/mman.h>} and {@code <unistd.h>} a dma-buf fd uses. Values equal Linux's, so code
 * ported from C reads the same.
 */
public final class DmaBufUapi {
    private DmaBufUapi() {
    }

    /** The page size the core reasons in: 4 KiB, as on x86-64 and most arm64 kernels. */
    public static final int PAGE_SIZE = 4096;
    /** {@code log2(PAGE_SIZE)}. */
    public static final int PAGE_SHIFT = 12;

    /** Open for reading only. */
    public static final int O_RDONLY = 0;
    /** Open for writing only. */
    public static final int O_WRONLY = 1;
    /** Open for reading and writing. */
    public static final int O_RDWR = 2;
    /** The access-mode bits of a flags word. */
    public static final int O_ACCMODE = 3;
    /** Close the fd when the owner "executes" something else; carried for fidelity, reported by fdinfo. */
    public static final int O_CLOEXEC = 0x80000;

    /** SYNC: the CPU will read. */
    public static final long DMA_BUF_SYNC_READ = 1;
    /** SYNC: the CPU will write. */
    public static final long DMA_BUF_SYNC_WRITE = 2;
    /** SYNC: read and write. */
    public static final long DMA_BUF_SYNC_RW = DMA_BUF_SYNC_READ | DMA_BUF_SYNC_WRITE;
    /** SYNC: begin CPU access (the absence of {@link #DMA_BUF_SYNC_END}). */
    public static final long DMA_BUF_SYNC_START = 0;
    /** SYNC: end CPU access. */
    public static final long DMA_BUF_SYNC_END = 4;
    /** Every bit SYNC defines; any other bit is {@link Errno#EINVAL}. */
    public static final long DMA_BUF_SYNC_VALID_FLAGS_MASK = DMA_BUF_SYNC_RW | DMA_BUF_SYNC_END;

    /** The longest name SET_NAME takes, including the terminating NUL: at most 31 characters remain. */
    public static final int DMA_BUF_NAME_LEN = 32;

    /** {@code _IOW('b', 0, struct dma_buf_sync)}: begin or end CPU access; the argument is the flags as a Long. */
    public static final long DMA_BUF_IOCTL_SYNC = 0x40086200L;
    /** {@code _IOW('b', 1, u32)}: set the buffer's name (32-bit ABI); the argument is a String. */
    public static final long DMA_BUF_SET_NAME_A = 0x40046201L;
    /** {@code _IOW('b', 1, u64)}: set the buffer's name (64-bit ABI); the argument is a String. */
    public static final long DMA_BUF_SET_NAME_B = 0x40086201L;
    /**
     * {@code _IOWR('b', 2, struct dma_buf_export_sync_file)}: the argument is a {@code long[2]} {flags, fd}; the
     * core writes the new sync file's fd into element 1.
     */
    public static final long DMA_BUF_IOCTL_EXPORT_SYNC_FILE = 0xC0086202L;
    /** {@code _IOW('b', 3, struct dma_buf_import_sync_file)}: the argument is a {@code long[2]} {flags, sync fd}. */
    public static final long DMA_BUF_IOCTL_IMPORT_SYNC_FILE = 0x40086203L;

    /** poll: readable (no write fence pending). */
    public static final int POLLIN = 0x1;
    /** poll: writable (no fence pending). */
    public static final int POLLOUT = 0x4;
    /** poll: error (the buffer was revoked). */
    public static final int POLLERR = 0x8;

    /** Pages may be read. */
    public static final int PROT_READ = 1;
    /** Pages may be written. */
    public static final int PROT_WRITE = 2;

    /** llseek from the start. */
    public static final int SEEK_SET = 0;
    /** llseek from the current position: a dma-buf refuses it. */
    public static final int SEEK_CUR = 1;
    /** llseek from the end. */
    public static final int SEEK_END = 2;
    /** llseek to data: a dma-buf refuses it. */
    public static final int SEEK_DATA = 3;
    /** llseek to a hole: a dma-buf refuses it. */
    public static final int SEEK_HOLE = 4;
}
