package dmabuf.core;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;

/** Short factories for the core's typed errors, so checks read as the rule they enforce. */
public final class Errors {
    private Errors() {
    }

    /** An error with the errno and a message. */
    public static DmaBufException error(Errno errno, String message) {
        return new DmaBufException(errno, message);
    }

    /** {@link Errno#EINVAL}. */
    public static DmaBufException einval(String message) {
        return new DmaBufException(Errno.EINVAL, message);
    }

    /** Rounds up to whole pages; the caller has checked that it cannot wrap. */
    public static long pageAlign(long bytes) {
        return (bytes + dmabuf.api.DmaBufUapi.PAGE_SIZE - 1) & -dmabuf.api.DmaBufUapi.PAGE_SIZE;
    }

    /** Refuses a missing direction or {@link dmabuf.api.DmaDataDirection#NONE} for an op that moves data. */
    public static void checkDirection(dmabuf.api.DmaDataDirection direction, String op) {
        if (direction == null || direction == dmabuf.api.DmaDataDirection.NONE) {
            throw einval(op + " needs a data direction other than " + direction);
        }
    }
}
