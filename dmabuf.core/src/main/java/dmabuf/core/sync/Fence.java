package dmabuf.core.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dmabuf.api.Errno;
import dmabuf.api.sync.DmaFence;
import dmabuf.core.CoreLog;
import dmabuf.core.Errors;

/**
 * The core's fence: a one-shot event with an error slot, callbacks and bounded waits.
 * <p>
 * DOC: why no callback is lost. The callback list and the signalled flag change together under one monitor: an add
 * either lands in the list before the signal takes it (and runs) or sees the flag and returns false. Callbacks run
 * after the monitor is left, so a callback may add or remove callbacks on other fences (or wait) without deadlock.
 */
public class Fence implements DmaFence {
    private final long context;
    private final long seqno;
    private final String driverName;
    private final String timelineName;
    private final CoreLog log;
    private final CountDownLatch done = new CountDownLatch(1);
    private final Object monitor = new Object();
    /** Callbacks not yet run; null once signalled. Guarded by monitor. */
    private List<Callback> callbacks = new ArrayList<>(2);
    /** The error set before signalling. Guarded by monitor. */
    private Errno pendingError;
    /** The error it signalled with; written before {@link #signaled} so a reader of the flag sees it. */
    private volatile Errno error;
    private volatile boolean signaled;
    /** Created on first use. Guarded by monitor. */
    private CompletableFuture<DmaFence> stage;

    private final Signalling signalling;

    Fence(long context, long seqno, String driverName, String timelineName, CoreLog log, Signalling signalling) {
        this.signalling = signalling;
        this.context = context;
        this.seqno = seqno;
        this.driverName = driverName;
        this.timelineName = timelineName;
        this.log = log;
    }

    @Override
    public long context() {
        return context;
    }

    @Override
    public long seqno() {
        return seqno;
    }

    @Override
    public String driverName() {
        return driverName;
    }

    @Override
    public String timelineName() {
        return timelineName;
    }

    @Override
    public boolean isSignaled() {
        return signaled;
    }

    @Override
    public void signal() {
        if (!signalWith(null, false)) {
            throw Errors.error(Errno.EALREADY, this + " is already signalled: a fence signals once");
        }
    }

    /**
     * Signals unless signalled already, optionally setting an error first, atomically. Returns false when it was
     * already signalled (nothing changes then).
     */
    boolean signalWith(Errno errorToSet, boolean overrideError) {
        List<Callback> toRun;
        synchronized (monitor) {
            if (signaled) {
                return false;
            }
            if (errorToSet != null && (overrideError || pendingError == null)) {
                pendingError = errorToSet;
            }
            error = pendingError;
            signaled = true;
            toRun = callbacks;
            callbacks = null;
        }
        done.countDown();
        for (Callback cb : toRun) {
            try {
                cb.signaled(this);
            } catch (RuntimeException | LinkageError e) {
                log.error("a callback of " + this + " threw; the other callbacks still run", e);
            }
        }
        return true;
    }

    @Override
    public void setError(Errno errorToSet) {
        if (errorToSet == null) {
            throw Errors.einval("setError needs an errno, not null");
        }
        synchronized (monitor) {
            if (signaled) {
                throw Errors.error(Errno.EALREADY, "setError(" + errorToSet + ") on " + this
                        + ", which is already signalled: set the error before signalling");
            }
            pendingError = errorToSet;
        }
    }

    @Override
    public int status() {
        if (!signaled) {
            return 0;
        }
        Errno e = error;
        return e == null ? 1 : -e.number();
    }

    @Override
    public Optional<Errno> error() {
        return signaled ? Optional.ofNullable(error) : Optional.empty();
    }

    @Override
    public boolean addCallback(Callback callback) {
        if (callback == null) {
            throw Errors.einval("addCallback needs a callback, not null");
        }
        synchronized (monitor) {
            if (signaled) {
                return false;
            }
            callbacks.add(callback);
            return true;
        }
    }

    @Override
    public boolean removeCallback(Callback callback) {
        synchronized (monitor) {
            if (callbacks == null) {
                return false;
            }
            for (int i = 0; i < callbacks.size(); i++) {
                if (callbacks.get(i) == callback) {
                    callbacks.remove(i);
                    return true;
                }
            }
            return false;
        }
    }

    @Override
    public boolean await(long timeout, TimeUnit unit) {
        if (timeout < 0) {
            throw Errors.einval("a fence wait needs a timeout of at least 0, not " + timeout + " " + unit);
        }
        if (signaled || timeout == 0) {
            return signaled;
        }
        try {
            return done.await(timeout, unit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Errors.error(Errno.EINTR, "interrupted while waiting for " + this);
        }
    }

    @Override
    public CompletionStage<DmaFence> whenSignaled() {
        CompletableFuture<DmaFence> f;
        synchronized (monitor) {
            if (stage == null) {
                stage = new CompletableFuture<>();
                if (!signaled) {
                    CompletableFuture<DmaFence> s = stage;
                    callbacks.add(fence -> s.complete(fence));
                } else {
                    stage.complete(this);
                }
            }
            f = stage;
        }
        return f.minimalCompletionStage();
    }

    @Override
    public SignallingSection beginSignalling() {
        return signalling.enter();
    }

    @Override
    public boolean isLaterThan(DmaFence other) {
        if (other.context() != context) {
            throw Errors.einval("cannot order " + this + " and " + other + ": they are on different timelines");
        }
        return seqno > other.seqno();
    }

    @Override
    public String toString() {
        Errno e = error;
        return "fence " + driverName + "/" + timelineName + " ctx " + context + " seq " + seqno
                + (signaled ? (e == null ? " (signalled)" : " (signalled, " + e + ")") : " (unsignalled)");
    }
}
