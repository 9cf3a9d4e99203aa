package dmabuf.core.sync;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dmabuf.api.Errno;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.CoreLog;
import dmabuf.core.Errors;
import dmabuf.core.client.Client;

/**
 * A timeline owned by one bundle. It remembers its unsignalled fences so that, when the bundle stops, they can be
 * signalled with ENODEV ({@link #abandon}): nobody waits for a driver that is gone.
 */
final class FenceContextImpl implements FenceContext {
    private final long id;
    private final String driverName;
    private final String timelineName;
    private final Client owner;
    private final CoreLog log;
    private final AtomicLong seqno = new AtomicLong();
    private final Set<Fence> pending = ConcurrentHashMap.newKeySet();
    private final DmaFence.Callback forget = f -> pending.remove((Fence) f);
    private volatile boolean abandoned;

    private final Signalling signalling;

    FenceContextImpl(long id, String driverName, String timelineName, Client owner, CoreLog log,
            Signalling signalling) {
        this.signalling = signalling;
        this.id = id;
        this.driverName = driverName;
        this.timelineName = timelineName;
        this.owner = owner;
        this.log = log;
    }

    @Override
    public long id() {
        return id;
    }

    @Override
    public String driverName() {
        return driverName;
    }

    @Override
    public String timelineName() {
        return timelineName;
    }

    /** The bundle that owns it. */
    Client owner() {
        return owner;
    }

    @Override
    public DmaFence createFence() {
        if (abandoned) {
            throw Errors.error(Errno.ENODEV, "fence context " + this + " belongs to " + owner.describe()
                    + ", which stopped");
        }
        Fence f = new Fence(id, seqno.incrementAndGet(), driverName, timelineName, log, signalling);
        pending.add(f);
        f.addCallback(forget);
        if (abandoned) {
            // the bundle stopped while this fence was made: it must not outlive the stop unsignalled
            f.signalWith(Errno.ENODEV, true);
            throw Errors.error(Errno.ENODEV, "fence context " + this + " belongs to " + owner.describe()
                    + ", which stopped");
        }
        return f;
    }

    @Override
    public int unsignaledCount() {
        return pending.size();
    }

    /** Signals every pending fence with the error and refuses new ones; returns those it signalled. */
    List<Fence> abandon(Errno why) {
        abandoned = true;
        List<Fence> left = List.copyOf(pending);
        return left.stream().filter(f -> f.signalWith(why, true)).toList();
    }

    @Override
    public String toString() {
        return driverName + "/" + timelineName + " (ctx " + id + ")";
    }
}
