package dmabuf.api;

/**
 * The Linux errno values the dma-buf core and its drivers return, with their numbers on Linux (x86-64, arm64) and the
 * text {@code strerror} gives them. A {@link DmaBufException} carries one.
 */
public enum Errno {
    /** Operation not permitted. */
    EPERM(1, "Operation not permitted"),
    /** No such entry, e.g. a GEM handle that is closed. */
    ENOENT(2, "No such file or directory"),
    /** Interrupted while waiting. */
    EINTR(4, "Interrupted system call"),
    /** Input/output error: here, a driver broke its contract (threw, or returned something the core cannot use). */
    EIO(5, "Input/output error"),
    /** Not a valid file descriptor of the calling bundle. */
    EBADF(9, "Bad file descriptor"),
    /** Try again. */
    EAGAIN(11, "Resource temporarily unavailable"),
    /** Out of memory, or over a quota. */
    ENOMEM(12, "Cannot allocate memory"),
    /** The fd's access mode does not allow the request. */
    EACCES(13, "Permission denied"),
    /** A bad address: a null where a value was required. */
    EFAULT(14, "Bad address"),
    /** Busy: a device the exporter cannot serve, a direction conflict, a per-thread limit. */
    EBUSY(16, "Device or resource busy"),
    /** Already exists. */
    EEXIST(17, "File exists"),
    /** The buffer was revoked: its exporter went away. */
    ENODEV(19, "No such device"),
    /** Invalid argument. */
    EINVAL(22, "Invalid argument"),
    /** The calling bundle has no free file descriptor under its limit. */
    EMFILE(24, "Too many open files"),
    /** Not an ioctl this file knows. */
    ENOTTY(25, "Inappropriate ioctl for device"),
    /** Would deadlock: a driver called back into the core while the core held the buffer's lock for it. */
    EDEADLK(35, "Resource deadlock avoided"),
    /** Value too large: an offset whose page count wraps around. */
    EOVERFLOW(75, "Value too large for defined data type"),
    /** File descriptor in bad state, e.g. an fd that is not a memfd where one is required. */
    EBADFD(77, "File descriptor in bad state"),
    /** Operation not supported. */
    EOPNOTSUPP(95, "Operation not supported"),
    /** A bounded wait ran out. */
    ETIMEDOUT(110, "Connection timed out"),
    /** Already done: a fence that was already signalled, a lock this context already holds. */
    EALREADY(114, "Operation already in progress");

    private final int number;
    private final String description;

    Errno(int number, String description) {
        this.number = number;
        this.description = description;
    }

    /** The positive errno number as Linux defines it (userspace sees {@code -1} and this in {@code errno}). */
    public int number() {
        return number;
    }

    /** What {@code strerror} says for this errno. */
    public String description() {
        return description;
    }
}
