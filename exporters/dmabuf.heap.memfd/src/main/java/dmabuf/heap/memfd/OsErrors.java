package dmabuf.heap.memfd;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.os.NativeException;

/** Turns a failed system call into the {@link DmaBufException} a caller of the dma-buf API gets. */
final class OsErrors {
    private OsErrors() {
    }

    /** The {@link Errno} with the call's number, or {@link Errno#EIO} for one the API does not name. */
    static Errno errno(NativeException e) {
        for (Errno errno : Errno.values()) {
            if (errno.number() == e.errno()) {
                return errno;
            }
        }
        return Errno.EIO;
    }

    /** The exception for a call that failed while doing {@code what}. */
    static DmaBufException failed(String what, NativeException e) {
        return new DmaBufException(errno(e), what + ": " + e.getMessage(), e);
    }
}
