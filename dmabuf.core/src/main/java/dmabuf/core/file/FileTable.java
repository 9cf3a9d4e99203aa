package dmabuf.core.file;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

import dmabuf.api.Errno;
import dmabuf.core.Errors;

/**
 * One bundle's file descriptor table: fds are small ints, the lowest free one first, up to a limit (as
 * {@code RLIMIT_NOFILE}). Lookups take no lock; installing and closing are serialised.
 */
public final class FileTable {
    private volatile AtomicReferenceArray<OpenFile> slots = new AtomicReferenceArray<>(16);
    private int open;
    private int lowestFree;

    /** The dma-buf behind an fd, or {@link Errno#EBADF}; a sync file's fd is {@link Errno#EINVAL}. */
    public OpenFile get(int fd) {
        OpenFile f = getAny(fd);
        if (f.isSyncFile()) {
            throw Errors.einval("fd " + fd + " is a sync file, not a dma-buf");
        }
        return f;
    }

    /** The open file behind an fd, dma-buf or sync file, or {@link Errno#EBADF}. */
    public OpenFile getAny(int fd) {
        AtomicReferenceArray<OpenFile> s = slots;
        OpenFile f = fd >= 0 && fd < s.length() ? s.get(fd) : null;
        if (f == null) {
            throw Errors.error(Errno.EBADF, "fd " + fd + " is not an open fd of this bundle"
                    + " (fds are per bundle: pass the DmaBuf object to share a buffer)");
        }
        return f;
    }

    /** Installs a file at the lowest free fd, or {@link Errno#EMFILE} when {@code limit} fds are open. */
    public synchronized int install(OpenFile file, int limit) {
        if (open >= limit) {
            throw Errors.error(Errno.EMFILE, "this bundle has " + open + " dma-buf fds open, its limit is " + limit
                    + " (close fds it no longer needs, or raise fd_limit of configuration dmabuf.core)");
        }
        int fd = lowestFree;
        AtomicReferenceArray<OpenFile> s = slots;
        while (fd < s.length() && s.get(fd) != null) {
            fd++;
        }
        if (fd >= limit) {
            throw Errors.error(Errno.EMFILE, "no free fd below the limit " + limit);
        }
        if (fd >= s.length()) {
            AtomicReferenceArray<OpenFile> grown = new AtomicReferenceArray<>(Math.max(s.length() * 2, fd + 1));
            for (int i = 0; i < s.length(); i++) {
                grown.set(i, s.get(i));
            }
            slots = grown;
            s = grown;
        }
        s.set(fd, file);
        open++;
        lowestFree = fd + 1;
        return fd;
    }

    /** Removes an fd (dma-buf or sync file) and returns its file, or {@link Errno#EBADF}. */
    public synchronized OpenFile remove(int fd) {
        OpenFile f = getAny(fd);
        slots.set(fd, null);
        open--;
        if (fd < lowestFree) {
            lowestFree = fd;
        }
        return f;
    }

    /** How many fds are open. */
    public synchronized int openCount() {
        return open;
    }

    /** The open dma-buf fds (not sync files: they hold no buffer), lowest first. */
    public synchronized List<Integer> openFds() {
        List<Integer> fds = new ArrayList<>(open);
        AtomicReferenceArray<OpenFile> s = slots;
        for (int i = 0; i < s.length(); i++) {
            if (s.get(i) != null && !s.get(i).isSyncFile()) {
                fds.add(i);
            }
        }
        return fds;
    }
}
