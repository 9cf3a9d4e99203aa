package dmabuf.core.leak;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import dmabuf.api.DmaBuf;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.LeakReportLevel;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;
import dmabuf.core.client.Holding;
import dmabuf.core.client.LeakLog;

/**
 * DOC: dropped buffers. A bundle that lets go of its last {@link DmaBuf} object while it still holds references it
 * never put can never put them: nothing frees the buffer until the bundle stops. As Netty does for its buffers, the
 * core hands out a {@link TrackedDmaBuf} handle for a sample of the buffers (every buffer at PARANOID, one export in
 * {@code leak.sampling.interval} at SIMPLE and ADVANCED, none at DISABLED) and watches it with a
 * {@link PhantomReference}. All of a buffer's export/get calls return the same handle while it is reachable, so
 * passing it between bundles is not a leak. When the garbage collector finds the handle unreachable while some
 * bundle still holds object references, each such bundle is reported ({@link LeakDTO#KIND_DROPPED}, with the stack
 * of the export from ADVANCED on). The report only tells: the references stay counted, since a CPU view or an
 * attachment may still be in use, and the bundle's stop remains the checkpoint that reclaims them.
 * <p>
 * No thread: the reference queue is drained, as Netty does, when the next tracked handle is made, when the runtime
 * DTO is read, when a bundle stops, and by {@link #poll()}. With level DISABLED (and for unsampled buffers) the only
 * cost is a map emptiness check on export and get.
 */
public final class LeakDetector {
    private final Supplier<CoreConfig> config;
    private final LeakLog leaks;
    private final ReferenceQueue<TrackedDmaBuf> queue = new ReferenceQueue<>();
    private final Map<Buffer, Track> tracked = new ConcurrentHashMap<>();
    private final AtomicLong exports = new AtomicLong();
    private final AtomicLong trackedCount = new AtomicLong();
    private final AtomicLong droppedCount = new AtomicLong();
    /** Handles found unreachable while a holder had a registry call in progress: judged again at the next poll. */
    private final Queue<Watch> deferred = new ConcurrentLinkedQueue<>();

    /**
     * @param config the settings in force (level and sampling interval)
     * @param leaks  where dropped buffers are reported
     */
    public LeakDetector(Supplier<CoreConfig> config, LeakLog leaks) {
        this.config = config;
        this.leaks = leaks;
    }

    /**
     * A buffer was exported by {@code client}: decides whether to track it and returns what export hands back
     * (the handle, or the buffer itself when it is not tracked).
     */
    public DmaBuf exported(Buffer b, Client client) {
        CoreConfig cfg = config.get();
        LeakReportLevel level = cfg.leakReportLevel();
        if (level == LeakReportLevel.DISABLED) {
            return b;
        }
        if (level != LeakReportLevel.PARANOID && exports.incrementAndGet() % cfg.leakSamplingInterval() != 0) {
            return b;
        }
        tracked.put(b, new Track(b));
        trackedCount.incrementAndGet();
        return face(b, client);
    }

    /** What a get by {@code client} hands back: the buffer's live handle (made anew if none is), or the buffer. */
    public DmaBuf face(Buffer b, Client client) {
        if (tracked.isEmpty()) {
            return b; // the hot path when nothing is tracked
        }
        Track t = tracked.get(b);
        return t == null ? b : t.handle(client);
    }

    /** The buffer was released: stop watching it. */
    public void forget(Buffer b) {
        if (tracked.isEmpty()) {
            return;
        }
        Track t = tracked.remove(b);
        if (t != null) {
            t.retire();
        }
    }

    /**
     * Reports every tracked buffer whose handle became unreachable while a bundle still held references to it.
     *
     * @return how many bundles were reported now
     */
    public int poll() {
        int found = 0;
        Watch again;
        List<Watch> retry = new ArrayList<>();
        while ((again = deferred.poll()) != null) {
            retry.add(again);
        }
        for (Watch w : retry) {
            found += w.track.dropped(w);
        }
        Reference<? extends TrackedDmaBuf> ref;
        while ((ref = queue.poll()) != null) {
            if (ref instanceof Watch w) {
                found += w.track.dropped(w);
            }
        }
        return found;
    }

    /** Buffers tracked since the core started. */
    public long trackedCount() {
        return trackedCount.get();
    }

    /** Dropped-buffer reports since the core started. */
    public long droppedCount() {
        return droppedCount.get();
    }

    /** Buffers tracked now. */
    public int trackedNow() {
        return tracked.size();
    }

    /** The phantom reference of one handle; the track keeps it reachable so that it is enqueued. */
    private static final class Watch extends PhantomReference<TrackedDmaBuf> {
        final Track track;
        final String madeFor;

        Watch(TrackedDmaBuf handle, ReferenceQueue<TrackedDmaBuf> q, Track track, String madeFor) {
            super(handle, q);
            this.track = track;
            this.madeFor = madeFor;
        }
    }

    /** One tracked buffer: its current handle (weakly) and that handle's watch. */
    private final class Track {
        private final Buffer buffer;
        private volatile WeakReference<TrackedDmaBuf> current = new WeakReference<>(null);
        private Watch watch;
        private boolean retired;

        Track(Buffer buffer) {
            this.buffer = buffer;
        }

        TrackedDmaBuf handle(Client client) {
            TrackedDmaBuf h = current.get();
            if (h != null) {
                return h;
            }
            // a handle is due: report what earlier ones left behind first, as Netty does; outside this track's
            // monitor, since reporting takes the monitors of other tracks
            poll();
            synchronized (this) {
                h = current.get();
                if (h == null) {
                    h = new TrackedDmaBuf(buffer);
                    if (!retired) {
                        current = new WeakReference<>(h);
                        watch = new Watch(h, queue, this, client.describe());
                    }
                }
                return h;
            }
        }

        synchronized void retire() {
            retired = true;
            if (watch != null) {
                watch.clear();
                watch = null;
            }
        }

        /** The handle of {@code w} became unreachable; reports the holders unless a newer handle exists. */
        int dropped(Watch w) {
            List<Client> suspects = new ArrayList<>();
            synchronized (this) {
                if (w != watch || retired) {
                    return 0; // a newer handle stands for the buffer now, or it was released meanwhile
                }
                // The core unwraps the handle at the start of a call, so the handle may become unreachable while
                // that call still moves its reference (fd, put): judge only once the holders' calls are done. The
                // suspects are chosen here, once: a bundle whose references appear after this check (a get racing
                // the judgement) holds a handle made after this one and is not a suspect.
                for (Client c : buffer.holders()) {
                    Holding h = c.existingHolding(buffer);
                    if (h != null && h.refs() > 0) {
                        if (c.callsInProgress() > 0) {
                            deferred.add(w);
                            return 0;
                        }
                        suspects.add(c);
                    }
                }
                watch = null;
            }
            int reported = 0;
            for (Client c : suspects) {
                Holding h = c.existingHolding(buffer);
                long refs = h == null ? 0 : h.refs();
                // a handle made since the check stands for the buffer again: whoever holds references can put them
                if (refs > 0 && buffer.state() != Buffer.State.RELEASED && current.get() == null) {
                    droppedCount.incrementAndGet();
                    leaks.reportDropped(c, buffer, refs + " reference(s) never put, and no DmaBuf object for it is "
                            + "reachable any more (the last handle was made for " + w.madeFor + ")");
                    reported++;
                }
            }
            return reported;
        }
    }
}
