package dmabuf.core.sync;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import dmabuf.api.Errno;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.CoreLog;
import dmabuf.core.Errors;
import dmabuf.core.client.Client;

/**
 * A timeline owned by one bundle. Its fences are tracked in the bundle's {@link ClientFences} so that, when the
 * bundle stops, they are signalled with ENODEV: nobody waits for a driver that is gone.
 */
final class FenceContextImpl implements FenceContext {
    private final long id;
    private final String driverName;
    private final String timelineName;
    private final Client owner;
    private final CoreLog log;
    private final AtomicLong seqno = new AtomicLong();
    private final AtomicInteger pending = new AtomicInteger();
    private final ClientFences tracker;

    private final Signalling signalling;

    FenceContextImpl(long id, String driverName, String timelineName, Client owner, CoreLog log,
            Signalling signalling, ClientFences tracker) {
        this.signalling = signalling;
        this.tracker = tracker;
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
        if (tracker.isAbandoned()) {
            throw stopped();
        }
        Fence f = new Fence(id, seqno.incrementAndGet(), driverName, timelineName, log, signalling);
        pending.incrementAndGet();
        if (!tracker.track(f, pending::decrementAndGet)) {
            throw stopped();
        }
        return f;
    }

    private RuntimeException stopped() {
        return Errors.error(Errno.ENODEV, "fence context " + this + " belongs to " + owner.describe()
                + ", which stopped");
    }

    @Override
    public int unsignaledCount() {
        return pending.get();
    }

    @Override
    public String toString() {
        return driverName + "/" + timelineName + " (ctx " + id + ")";
    }
}
