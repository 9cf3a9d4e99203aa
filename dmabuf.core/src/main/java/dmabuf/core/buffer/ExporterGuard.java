package dmabuf.core.buffer;

import java.util.function.Supplier;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.core.CoreLog;

/**
 * The one place where exceptions from driver code are judged. A {@link DmaBufException} is the driver's refusal and
 * passes through unchanged; anything else (a RuntimeException, a checked exception thrown undeclared, as code in
 * other JVM languages can, or a LinkageError from a bundle that was updated or uninstalled) is a driver bug: it is
 * logged against the driver's bundle and becomes {@link Errno#EIO}, so the core's state stays consistent and the
 * caller gets a typed error.
 */
public final class ExporterGuard {
    private final CoreLog log;

    /** @param log where driver bugs are reported */
    public ExporterGuard(CoreLog log) {
        this.log = log;
    }

    /** The error to throw for a failure of the exporter's {@code op} on {@code buffer}. */
    public DmaBufException failed(Buffer buffer, String op, Throwable failure) {
        if (failure instanceof DmaBufException refusal) {
            return refusal;
        }
        String message = "exporter '" + buffer.exporterName() + "' of " + buffer.owner().describe() + " threw "
                + failure + " from its " + op + " op of " + buffer;
        log.error(message, failure);
        return new DmaBufException(Errno.EIO, message, failure);
    }

    /** Runs a cleanup call into driver code; a failure is logged, never thrown (cleanup must go on). */
    public void quietly(String who, String op, Runnable call) {
        try {
            call.run();
        } catch (Exception | LinkageError failure) {
            log.error(who + " threw " + failure + " from " + op + " during cleanup; cleanup continues", failure);
        }
    }

    /** As {@link #quietly(String, String, Runnable)} for a cleanup op of the buffer's exporter and its bundle. */
    public void quietly(Buffer buffer, String op, Runnable call) {
        quietly("exporter '" + buffer.exporterName() + "' of " + buffer.owner().describe(), op + " of " + buffer,
                call);
    }

    /** Calls a locked exporter op (the buffer's lock is held), marking it so a callback into the core is refused. */
    public void locked(Buffer buffer, String op, Runnable call) {
        buffer.beginLockedOp(op);
        try {
            call.run();
        } catch (Exception | LinkageError e) {
            throw failed(buffer, op, e);
        } finally {
            buffer.endLockedOp();
        }
    }

    /** As {@link #locked(Buffer, String, Runnable)}, returning the op's result. */
    public <T> T lockedReturning(Buffer buffer, String op, Supplier<T> call) {
        buffer.beginLockedOp(op);
        try {
            return call.get();
        } catch (Exception | LinkageError e) {
            throw failed(buffer, op, e);
        } finally {
            buffer.endLockedOp();
        }
    }

    /** As {@link #locked(Buffer, String, Runnable)} but lets failures through untouched, for {@link #quietly}. */
    public void lockedRaw(Buffer buffer, String op, Runnable call) {
        buffer.beginLockedOp(op);
        try {
            call.run();
        } finally {
            buffer.endLockedOp();
        }
    }
}
