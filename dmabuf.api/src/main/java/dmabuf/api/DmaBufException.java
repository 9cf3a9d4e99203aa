package dmabuf.api;

import java.util.Objects;

/**
 * The one exception the dma-buf API throws for a refused operation: it carries the {@link Errno} the Linux kernel
 * returns for the same misuse and a message that says what was wrong and what to do about it.
 * <p>
 * Unchecked, like the kernel's negative return values that a caller may propagate. Drivers throw it too: an exporter
 * that refuses an attach throws it with its own errno (typically {@link Errno#EBUSY}), and the core passes it on to
 * the importer unchanged.
 */
public class DmaBufException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Errno errno;

    /**
     * @param errno   the kernel errno for this failure, not null
     * @param message what was wrong, for a person: name the buffer, the bundle and the fix where known
     */
    public DmaBufException(Errno errno, String message) {
        super(message);
        this.errno = Objects.requireNonNull(errno, "errno");
    }

    /**
     * @param errno   the kernel errno for this failure, not null
     * @param message what was wrong, for a person
     * @param cause   the exception that caused it, e.g. one a driver threw
     */
    public DmaBufException(Errno errno, String message, Throwable cause) {
        super(message, cause);
        this.errno = Objects.requireNonNull(errno, "errno");
    }

    /** The kernel errno of this failure. */
    public Errno errno() {
        return errno;
    }

    /** The errno's name, then the message, e.g. {@code EINVAL: SYNC flags 0x0 set neither READ nor WRITE}. */
    @Override
    public String getMessage() {
        return errno.name() + ": " + super.getMessage();
    }
}
