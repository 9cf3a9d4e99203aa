package dmabuf.memory.mapping;

/**
 * A libc call that failed, with its errno and the text {@code strerror} gives it. Internal: the engine turns it into
 * a {@link dmabuf.api.DmaBufException} (or a fallback) where it knows what was being done.
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

    /** The call, with its arguments as far as they help, e.g. {@code mmap(NULL, 4096, ...)}. */
    public String call() {
        return call;
    }

    /** The errno the call left. */
    public int errno() {
        return errno;
    }
}
