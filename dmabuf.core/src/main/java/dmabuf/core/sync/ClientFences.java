package dmabuf.core.sync;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dmabuf.api.Errno;

/**
 * The unsignalled fences of one bundle's contexts, so its stop can signal them. Holds fences, not contexts: a
 * context the bundle dropped is garbage, its pending fences still get signalled.
 */
final class ClientFences {
    private final Set<Fence> pending = ConcurrentHashMap.newKeySet();
    private final Set<AcquireCtx> openContexts = ConcurrentHashMap.newKeySet();
    private volatile boolean abandoned;

    /** Tracks a new fence until it signals; false (and the fence signalled with ENODEV) once the bundle stopped. */
    boolean track(Fence f, Runnable onSignal) {
        pending.add(f);
        f.addCallback(x -> {
            pending.remove(f);
            onSignal.run();
        });
        if (abandoned) {
            f.signalWith(Errno.ENODEV, true); // the bundle stopped while the fence was made
            return false;
        }
        return true;
    }

    /** Remembers an acquire context until it is closed. */
    void opened(AcquireCtx ctx) {
        openContexts.add(ctx);
    }

    void closed(AcquireCtx ctx) {
        openContexts.remove(ctx);
    }

    /** Closes the contexts the bundle left open (their locks would block everyone); returns how many. */
    List<AcquireCtx> closeLeftOpen() {
        List<AcquireCtx> left = List.copyOf(openContexts);
        left.forEach(AcquireCtx::close);
        return left;
    }

    boolean isAbandoned() {
        return abandoned;
    }

    /** Signals every pending fence with the error and refuses new ones; returns those it signalled. */
    List<Fence> abandon(Errno why) {
        abandoned = true;
        return List.copyOf(pending).stream().filter(f -> f.signalWith(why, true)).toList();
    }
}
