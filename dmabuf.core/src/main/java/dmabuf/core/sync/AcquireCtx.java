package dmabuf.core.sync;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaResv;
import dmabuf.core.Errors;

/**
 * An acquire context over {@link ResvImpl}'s wait-die mutexes; see {@link AcquireContext} for the protocol. Its
 * methods are synchronized only so that a bundle's stop can close a context the bundle left open, from another
 * thread.
 */
final class AcquireCtx implements AcquireContext {
    private final long stamp;
    private final long timeoutMillis;
    private final List<ResvImpl> held = new ArrayList<>();
    private int backoffs;
    private final java.util.function.Consumer<AcquireCtx> onClose;
    private boolean done;
    private boolean closed;

    AcquireCtx(long stamp, long timeoutMillis, java.util.function.Consumer<AcquireCtx> onClose) {
        this.stamp = stamp;
        this.timeoutMillis = timeoutMillis;
        this.onClose = onClose;
    }

    private static ResvImpl impl(DmaResv resv) {
        if (resv instanceof ResvImpl r) {
            return r;
        }
        throw Errors.einval("not a reservation object of this core: " + resv);
    }

    private void checkUsable(String op) {
        if (closed) {
            throw Errors.einval(op + " on acquire context " + stamp + ", which is closed");
        }
        if (done) {
            throw Errors.einval(op + " on acquire context " + stamp + " after done(): the acquire phase is over");
        }
    }

    /** How many locks it holds (read by ResvImpl while this context waits, so under this context's monitor). */
    int heldCount() {
        return held.size();
    }

    @Override
    public synchronized void lock(DmaResv resv) {
        checkUsable("lock");
        ResvImpl r = impl(resv);
        try {
            r.lock(this, true, timeoutMillis);
        } catch (ResvImpl.BackOff e) {
            backoffs++;
            throw e;
        }
        held.add(r);
    }

    @Override
    public synchronized void lockSlow(DmaResv resv) {
        checkUsable("lockSlow");
        if (!held.isEmpty()) {
            throw Errors.einval("lockSlow on acquire context " + stamp + " while it holds " + held.size()
                    + " lock(s): back off (unlockAll) first");
        }
        ResvImpl r = impl(resv);
        r.lock(this, false, timeoutMillis);
        held.add(r);
    }

    @Override
    public synchronized void lockAll(Collection<? extends DmaResv> resvs) {
        checkUsable("lockAll");
        ResvImpl contended = null;
        while (true) {
            try {
                if (contended != null) {
                    lockSlow(contended);
                }
                for (DmaResv resv : resvs) {
                    ResvImpl r = impl(resv);
                    if (!held.contains(r)) {
                        lock(r);
                    }
                }
                return;
            } catch (ResvImpl.BackOff e) {
                unlockAll();
                contended = e.contended;
            } catch (DmaBufException e) {
                unlockAll();
                throw e;
            }
        }
    }

    @Override
    public synchronized void unlock(DmaResv resv) {
        ResvImpl r = impl(resv);
        if (!held.remove(r)) {
            throw Errors.error(Errno.EPERM, "acquire context " + stamp + " does not hold " + r);
        }
        r.unlock(this);
    }

    @Override
    public synchronized void unlockAll() {
        for (int i = held.size() - 1; i >= 0; i--) {
            held.remove(i).unlock(this);
        }
    }

    @Override
    public synchronized void done() {
        done = true;
    }

    @Override
    public long stamp() {
        return stamp;
    }

    @Override
    public synchronized int backoffs() {
        return backoffs;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            unlockAll();
            closed = true;
            onClose.accept(this);
        }
    }

    @Override
    public String toString() {
        return "acquire context " + stamp + " (" + held.size() + " held, " + backoffs + " back-offs)";
    }
}
