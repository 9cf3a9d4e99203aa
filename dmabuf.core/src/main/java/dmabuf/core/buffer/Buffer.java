package dmabuf.core.buffer;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufOps;
import dmabuf.api.Errno;
import dmabuf.core.Errors;
import dmabuf.core.attach.Attachment;
import dmabuf.core.client.Client;
import dmabuf.core.sync.ResvImpl;

/**
 * A buffer's lifecycle and the state every concern shares: the reference count, the live/revoked/released state,
 * the buffer's lock (the kernel's reservation lock), the attachment list, the vmap count and the arena that scopes
 * every CPU view.
 * <p>
 * Invariants: the size never changes; {@link DmaBufOps#release} runs exactly once ({@link #claimRelease()}); once the
 * state leaves {@link State#LIVE} it never returns; fields marked "guarded by lock" change only with {@link #lock}
 * held.
 */
public final class Buffer implements DmaBuf {

    /** Where a buffer is in its life. */
    public enum State {
        /** Usable. */
        LIVE,
        /** The exporter went away or revoked it: storage released, references still counted. */
        REVOKED,
        /** The last reference is gone. */
        RELEASED
    }

    private final Object core;
    private final long id;
    private final long size;
    private final String exporterName;
    private final long exporterServiceId;
    private final Client owner;
    private final DmaBufOps ops;
    private final Set<OpsContract.Op> implemented;
    private final int exportFlags;
    private final Throwable creationSite;
    private volatile String name;
    private volatile State state = State.LIVE;

    private final AtomicLong refs = new AtomicLong(1);
    private final AtomicInteger inflight = new AtomicInteger();
    private final AtomicBoolean releaseClaimed = new AtomicBoolean();
    private final Lock lock = new Lock();
    private final Set<Client> holders = ConcurrentHashMap.newKeySet();

    /** Attachments linked to this buffer; guarded by lock. */
    private final List<Attachment> attachments = new ArrayList<>();
    /** Number of vmaps held, of all bundles; guarded by lock. */
    private long vmapCount;
    /** What the exporter's vmap returned; guarded by lock. */
    private MemorySegment vmapExporterSegment;
    /** The view handed to importers; guarded by lock. */
    private MemorySegment vmapView;
    /** The thread inside a locked exporter op, to refuse re-entry; guarded by lock. */
    private Thread lockedOpThread;
    private String lockedOpName;

    /** The reservation object: fences and their ww mutex (see dmabuf.core.sync). */
    private final ResvImpl resv = new ResvImpl(this::toString);
    /** Scopes every CPU view handed out. */
    private final ViewScope views = new ViewScope();
    /** Serialises state transitions. */
    private final Object stateGuard = new Object();

    Buffer(Object core, long id, long size, String exporterName, long exporterServiceId, Client owner, DmaBufOps ops,
            Set<OpsContract.Op> implemented, int exportFlags, String name, boolean captureSite) {
        this.core = core;
        this.id = id;
        this.size = size;
        this.exporterName = exporterName;
        this.exporterServiceId = exporterServiceId;
        this.owner = owner;
        this.ops = ops;
        this.implemented = implemented;
        this.exportFlags = exportFlags;
        this.name = name;
        this.creationSite = captureSite ? new Throwable("buffer " + id + " exported here") : null;
    }

    // ---- DmaBuf -------------------------------------------------------------------------------------------------

    @Override
    public long id() {
        return id;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public String exporterName() {
        return exporterName;
    }

    @Override
    public Optional<String> name() {
        return Optional.ofNullable(name);
    }

    @Override
    public ResvImpl resv() {
        return resv;
    }

    @Override
    public String toString() {
        String n = name;
        return "dma-buf " + id + (n == null ? "" : " '" + n + "'") + " (" + size + " bytes, exporter "
                + exporterName + ", " + state + ")";
    }

    /** Identity, except that the leak detector's handle of this buffer is equal to it (it stands for it). */
    @Override
    public boolean equals(Object o) {
        return o == this || (o instanceof dmabuf.core.leak.TrackedDmaBuf t && t.buffer() == this);
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    // ---- identity and description -------------------------------------------------------------------------------

    /** True when this buffer was made by the given core instance (not by a previous one). */
    public boolean belongsTo(Object coreInstance) {
        return core == coreInstance;
    }

    /** The bundle that exported it. */
    public Client owner() {
        return owner;
    }

    /** The exporter's ops. */
    public DmaBufOps ops() {
        return ops;
    }

    /** True when the exporter implements the op. */
    public boolean implementsOp(OpsContract.Op op) {
        return implemented.contains(op);
    }

    /** True when the exporter implements pin/unpin (it may move storage). */
    public boolean isDynamicExporter() {
        return implemented.contains(OpsContract.Op.PIN);
    }

    /** The exporter service this buffer belongs to, or -1 when it belongs to the bundle only. */
    public long exporterServiceId() {
        return exporterServiceId;
    }

    /** The access mode it was exported with. */
    public int exportFlags() {
        return exportFlags;
    }

    /** The stack of the export, when the leak report level is ADVANCED. */
    public Throwable creationSite() {
        return creationSite;
    }

    /** The current name, or null. */
    public String currentName() {
        return name;
    }

    /** Sets the name (SET_NAME); readers see either the old or the new name, never a torn one. */
    public void setName(String newName) {
        this.name = newName;
    }

    /** The state. */
    public State state() {
        return state;
    }

    /** The current total reference count. */
    public long refCount() {
        return refs.get();
    }

    /** The bundles that hold something of this buffer (for cleanup at release). */
    public Set<Client> holders() {
        return holders;
    }

    // ---- state checks -------------------------------------------------------------------------------------------

    /** Throws the typed error for a buffer that is not live: ENODEV when revoked, EBADF when released. */
    public void checkLive() {
        State s = state;
        if (s != State.LIVE) {
            throw notLive(s);
        }
    }

    /** The error for using a buffer in state {@code s}. */
    public DmaBufException notLive(State s) {
        return s == State.REVOKED
                ? Errors.error(Errno.ENODEV, this + " was revoked: its exporter '" + exporterName
                        + "' went away; put your references and stop using it")
                : Errors.error(Errno.EBADF, this + " was released: its last reference was put");
    }

    // ---- references ---------------------------------------------------------------------------------------------

    /** Takes a reference if the buffer is live ({@code kref_get_unless_zero}), else the typed error. */
    public void getRef() {
        long r;
        do {
            r = refs.get();
            if (r <= 0 || state != State.LIVE) {
                throw notLive(r <= 0 ? State.RELEASED : state);
            }
        } while (!refs.compareAndSet(r, r + 1));
    }

    /** Drops a reference; true when it was the last one and the caller must finish the release. */
    public boolean putRef() {
        long r = refs.decrementAndGet();
        if (r < 0) {
            refs.incrementAndGet();
            throw new IllegalStateException(this + ": reference count went negative (core accounting bug)");
        }
        return r == 0;
    }

    // ---- exporter calls in flight -------------------------------------------------------------------------------

    /** Marks an exporter call in flight, so a revoke waits for it before release; fails if not live. */
    public void enter() {
        State before = state;
        if (before != State.LIVE) {
            throw notLive(before); // refused without touching the count, so refused callers cannot starve a drain
        }
        inflight.incrementAndGet();
        State s = state;
        if (s != State.LIVE) {
            inflight.decrementAndGet();
            throw notLive(s);
        }
    }

    /**
     * Marks a cleanup call into the exporter in flight (detach after unlinking), whatever the state, so a release
     * running meanwhile waits for it; pair with {@link #exit()}.
     */
    public void enterCleanup() {
        inflight.incrementAndGet();
    }

    /** Ends what {@link #enter()} or {@link #enterCleanup()} began. */
    public void exit() {
        inflight.decrementAndGet();
    }

    /** Exporter calls in flight. */
    public int inflight() {
        return inflight.get();
    }

    // ---- the lock -----------------------------------------------------------------------------------------------

    /**
     * Takes the buffer's lock, waiting at most {@code timeoutMillis}. Refuses with EDEADLK when the calling thread
     * is inside a locked exporter op of this buffer (a driver calling back into the core).
     */
    public void lock(long timeoutMillis) {
        if (lock.isHeldByCurrentThread() && lockedOpThread == Thread.currentThread()) {
            throw Errors.error(Errno.EDEADLK, "exporter '" + exporterName + "' called back into the core from its "
                    + lockedOpName + " op of " + this + ": locked ops must not re-enter the core for their buffer");
        }
        try {
            if (!lock.tryLock(timeoutMillis, TimeUnit.MILLISECONDS)) {
                Thread holder = lock.holder();
                throw Errors.error(Errno.ETIMEDOUT, "timed out after " + timeoutMillis + " ms waiting for the lock of "
                        + this + (holder == null ? "" : ", held by thread '" + holder.getName() + "'")
                        + (lockedOpName == null ? "" : " in exporter op " + lockedOpName));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Errors.error(Errno.EINTR, "interrupted while waiting for the lock of " + this);
        }
    }

    /** Releases the buffer's lock. */
    public void unlock() {
        lock.unlock();
    }

    /** True when the calling thread holds the lock. */
    public boolean isLockedByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    /** Marks the calling thread as inside a locked exporter op (lock held). */
    public void beginLockedOp(String opName) {
        lockedOpThread = Thread.currentThread();
        lockedOpName = opName;
    }

    /** Ends {@link #beginLockedOp}. */
    public void endLockedOp() {
        lockedOpThread = null;
        lockedOpName = null;
    }

    // ---- attachments and vmap state (guarded by lock) -----------------------------------------------------------

    /** The attachment list; the caller holds the lock. */
    public List<Attachment> attachmentsLocked() {
        return attachments;
    }

    /** A copy of the attachment list, taken under the lock. */
    public List<Attachment> attachmentsSnapshot(long timeoutMillis) {
        lock(timeoutMillis);
        try {
            return List.copyOf(attachments);
        } finally {
            unlock();
        }
    }

    /** The vmap count; the caller holds the lock (or reads a racy value for display). */
    public long vmapCount() {
        return vmapCount;
    }

    /** Sets the vmap state; the caller holds the lock. */
    public void setVmap(long count, MemorySegment exporterSegment, MemorySegment view) {
        this.vmapCount = count;
        this.vmapExporterSegment = exporterSegment;
        this.vmapView = view;
    }

    /** What the exporter's vmap returned; the caller holds the lock. */
    public MemorySegment vmapExporterSegment() {
        return vmapExporterSegment;
    }

    /** The view of the current vmap; the caller holds the lock. */
    public MemorySegment vmapView() {
        return vmapView;
    }

    // ---- CPU views ----------------------------------------------------------------------------------------------

    /**
     * Re-scopes a segment an exporter returned to this buffer, exactly {@code length} bytes long, so it becomes
     * invalid at once for everybody when the buffer is released or revoked. The exporter's segment must be native
     * and at least {@code length} long, else the exporter broke its contract (EIO).
     */
    public MemorySegment scope(MemorySegment exporterSegment, long length, String opName) {
        if (exporterSegment == null || !exporterSegment.isNative() || exporterSegment.byteSize() < length) {
            throw Errors.error(Errno.EIO, "exporter '" + exporterName + "' returned "
                    + (exporterSegment == null ? "null"
                            : (exporterSegment.isNative() ? "" : "a heap ") + "segment of "
                                    + exporterSegment.byteSize() + " bytes")
                    + " from " + opName + " of " + this + "; the core needs a native segment of " + length
                    + " bytes");
        }
        MemorySegment view = views.view(exporterSegment, length);
        if (view == null) {
            throw notLive(state == State.LIVE ? State.RELEASED : state);
        }
        return view;
    }

    /**
     * Invalidates every CPU view of this buffer at once (closes its arena). Throws {@link IllegalStateException}
     * while a native call holds a view; the caller retries.
     */
    public void closeViews() {
        views.close();
    }

    // ---- release ------------------------------------------------------------------------------------------------

    /**
     * Moves the state towards {@code target} (LIVE to REVOKED, or to RELEASED); true when this call changed it.
     * The state never goes back to LIVE.
     */
    public boolean transition(State target) {
        synchronized (stateGuard) {
            State s = state;
            if (s == State.RELEASED || s == target || (s == State.REVOKED && target == State.LIVE)) {
                return false;
            }
            state = target;
            return true;
        }
    }

    /** True for exactly one caller: the one that must run the exporter's release. */
    public boolean claimRelease() {
        return releaseClaimed.compareAndSet(false, true);
    }

    /** True once release was claimed. */
    public boolean releaseClaimed() {
        return releaseClaimed.get();
    }

    /** A ReentrantLock that names its holder in timeout messages. */
    private static final class Lock extends ReentrantLock {
        private static final long serialVersionUID = 1L;

        Thread holder() {
            return getOwner();
        }
    }
}
