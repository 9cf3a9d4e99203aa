package dmabuf.core.sync;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import dmabuf.api.Errno;
import dmabuf.api.runtime.FenceDTO;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResv;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.DmaBufCore;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;

/**
 * The core's synchronisation: fence contexts per bundle, acquire contexts, the implicit-sync waits of the core's own
 * operations and the end of a bundle's fences when it stops. {@link PollService} and {@link SyncFiles} build on it.
 * <p>
 * DOC: implicit sync. Before the core lets the CPU or a static importer at a buffer it waits for the fences that
 * access must not overlap: a CPU writer for every fence but BOOKKEEP, a CPU reader for KERNEL and WRITE fences, a
 * static importer's map for KERNEL fences. Each wait is bounded by {@code fence.timeout.ms}; when it runs out the
 * core logs which fences it waited for and fails with ETIMEDOUT (EBUSY when the bound is 0: a non-blocking check),
 * so a driver that never signals cannot hang another one.
 */
public final class FenceService {
    private final DmaBufCore core;
    private final AtomicLong contextIds = new AtomicLong();
    private final AtomicLong stamps = new AtomicLong();
    private final Signalling signalling = new Signalling();
    private final StubFence stub;
    private final Map<Client, ClientFences> fencesByClient = new ConcurrentHashMap<>();

    /** @param core the core */
    public FenceService(DmaBufCore core) {
        this.core = core;
        this.stub = new StubFence(core.log(), signalling);
    }

    /** A new timeline owned by the client. */
    public FenceContext createContext(Client client, String driverName, String timelineName) {
        if (driverName == null || driverName.isBlank() || timelineName == null || timelineName.isBlank()) {
            throw Errors.einval("a fence context needs a driver and a timeline name, not '" + driverName + "', '"
                    + timelineName + "'");
        }
        ClientFences tracker = fencesByClient.computeIfAbsent(client, c -> new ClientFences());
        if (client.isClosed()) {
            tracker.abandon(Errno.ENODEV); // lost the race with the bundle's stop: no fence of it may outlive it
            fencesByClient.remove(client, tracker);
            throw Errors.error(Errno.ENODEV, client.describe() + " stopped");
        }
        FenceContextImpl ctx = new FenceContextImpl(newContextId(), driverName, timelineName, client, core.log(),
                signalling, tracker);
        return ctx;
    }

    long newContextId() {
        return contextIds.incrementAndGet();
    }

    /** The always-signalled stub. */
    public DmaFence stub() {
        return stub;
    }

    /** A new acquire context of the client, its waits bounded by the lock timeout. */
    public AcquireContext acquireContext(Client client) {
        ClientFences tracker = fencesByClient.computeIfAbsent(client, c -> new ClientFences());
        AcquireCtx ctx = new AcquireCtx(stamps.incrementAndGet(), core.config().lockTimeoutMillis(), tracker::closed);
        tracker.opened(ctx);
        if (client.isClosed()) {
            ctx.close();
            throw Errors.error(Errno.ENODEV, client.describe() + " stopped");
        }
        return ctx;
    }

    /** An acquire context of the core itself (sync-file import), closed by its user. */
    AcquireContext coreAcquireContext() {
        return new AcquireCtx(stamps.incrementAndGet(), core.config().lockTimeoutMillis(), ctx -> {
        });
    }

    /**
     * A bundle stopped: every fence its contexts left unsignalled is signalled with ENODEV, so waiters anywhere
     * wake instead of hanging on a driver that is gone.
     */
    public void clientClosed(Client client) {
        ClientFences owned = fencesByClient.remove(client);
        if (owned == null) {
            return;
        }
        List<AcquireCtx> leftOpen = owned.closeLeftOpen();
        if (!leftOpen.isEmpty()) {
            core.log().warn(client.describe() + " stopped with " + leftOpen.size() + " acquire context(s) open; "
                    + "closed them, releasing their reservation locks: " + leftOpen);
        }
        List<Fence> signalled = owned.abandon(Errno.ENODEV);
        if (!signalled.isEmpty()) {
            core.log().warn(client.describe() + " stopped with " + signalled.size() + " unsignalled fence(s); "
                    + "signalled them with ENODEV so nobody waits for them: " + describe(signalled));
        }
    }

    /**
     * Waits (bounded by {@code fence.timeout.ms}) until the fences of the buffer at or below the usage have
     * signalled.
     *
     * @param op what waits, for the message
     */
    /**
     * True when {@link #waitImplicit} would have to wait: outside a signalling section and with a fence of the usage
     * still unsignalled. Lets the hot paths (map, begin) skip building the operation's name when nothing waits, so
     * they allocate nothing.
     */
    public boolean mustWait(Buffer b, DmaResvUsage usage) {
        return !signalling.active() && !b.resv().testSignaled(usage);
    }

    public void waitImplicit(Buffer b, DmaResvUsage usage, String op) {
        if (signalling.active()) {
            return; // device work inside a fence's signalling section: its dependencies were fences (see DmaFence)
        }
        ResvImpl resv = b.resv();
        List<DmaFence> pending = resv.pending(usage);
        if (pending.isEmpty()) {
            return;
        }
        long timeoutMillis = core.config().fenceTimeoutMillis();
        if (timeoutMillis == 0) {
            throw Errors.error(Errno.EBUSY, op + " of " + b + " would wait for " + describe(pending)
                    + " and fence.timeout.ms is 0 (no waiting)");
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (DmaFence f : pending) {
            if (!f.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                List<DmaFence> still = pending.stream().filter(p -> !p.isSignaled()).toList();
                core.log().warn(op + " of " + b + " waited " + timeoutMillis + " ms for " + usage + " fences and "
                        + "gave up; still unsignalled: " + describe(still) + " (waited for: " + describe(pending)
                        + ")");
                throw Errors.error(Errno.ETIMEDOUT, op + " of " + b + " timed out after " + timeoutMillis
                        + " ms waiting for " + describe(still) + " (raise fence.timeout.ms of configuration "
                        + "dmabuf.core, or find the driver that does not signal)");
            }
        }
    }

    /** The fences of a reservation object, for the runtime DTO. */
    public static FenceDTO[] fenceDTOs(DmaResv resv) {
        List<DmaResv.Entry> entries = resv.fences(DmaResvUsage.BOOKKEEP);
        FenceDTO[] out = new FenceDTO[entries.size()];
        for (int i = 0; i < out.length; i++) {
            DmaResv.Entry e = entries.get(i);
            FenceDTO dto = new FenceDTO();
            dto.driverName = e.fence().driverName();
            dto.timelineName = e.fence().timelineName();
            dto.context = e.fence().context();
            dto.seqno = e.fence().seqno();
            dto.usage = e.usage().name();
            dto.signaled = e.fence().isSignaled();
            dto.error = e.fence().error().map(Enum::name).orElse(null);
            out[i] = dto;
        }
        return out;
    }

    /** The bufinfo lines of a reservation object, as the kernel's {@code dma_resv_describe}. */
    public static String describeForBufinfo(DmaResv resv) {
        StringBuilder sb = new StringBuilder();
        for (DmaResv.Entry e : resv.fences(DmaResvUsage.BOOKKEEP)) {
            DmaFence f = e.fence();
            sb.append('\t').append(e.usage().name().toLowerCase(java.util.Locale.ROOT)).append(" fence: ")
                    .append(f.driverName()).append(' ').append(f.timelineName()).append(" seq ").append(f.seqno())
                    .append(f.isSignaled() ? " signalled" : " unsignalled")
                    .append(f.error().map(err -> " error " + err).orElse("")).append('\n');
        }
        return sb.toString();
    }

    static String describe(List<? extends DmaFence> fences) {
        return fences.stream().map(Object::toString).collect(Collectors.joining(", ", "[", "]"));
    }

    Signalling signalling() {
        return signalling;
    }

    DmaBufCore core() {
        return core;
    }
}
