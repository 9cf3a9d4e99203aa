package dmabuf.os;

/**
 * A system call that failed, with its errno and the text {@code strerror} gives it. Callers turn it into their own
 * error type where they know what was being done (e.g. a {@code DmaBufException} with the same errno).
 */
public final class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    NativeException(String call, int errno, String text) {
        super(call + " failed: " + text + " (errno " + errno + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The call, with its arguments as far as they help, e.g. {@code mmap(0x0, 4096, ...)}. */
    public String call() {
        return call;
    }

    /** The errno the call left, as Linux numbers it. */
    public int errno() {
        return errno;
    }

    /** The errno's symbolic name, e.g. {@code EBADF}. */
    public String errnoName() {
        return Syscalls.name(errno);
    }
}
