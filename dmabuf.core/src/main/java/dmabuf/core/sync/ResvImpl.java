package dmabuf.core.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import dmabuf.api.Errno;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResv;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.core.Errors;

/**
 * A reservation object: a wait-die wound/wait mutex and a copy-on-write fence list.
 * <p>
 * DOC: why readers need no lock. The fence list is an immutable list behind a volatile field; writers (who hold the
 * ww mutex) publish a new list. A reader takes the list once and works on that snapshot, so it never sees a torn
 * update and never blocks a writer.
 * <p>
 * DOC: wait-die. A context that holds other locks and finds this one held by an older context gets EDEADLK and
 * backs off; everyone else waits (bounded). A context holding locks therefore only ever waits for younger ones, so
 * no cycle of waiters can form; the youngest always backs off, and keeps its stamp, so it wins later.
 */
public final class ResvImpl implements DmaResv {
    private final Supplier<String> owner;
    private final ReentrantLock monitor = new ReentrantLock();
    private final Condition released = monitor.newCondition();
    /** The context holding the ww mutex; guarded by monitor. */
    private AcquireCtx holder;
    /** The thread that locked it, for the "do you hold the lock" check of updates. */
    private volatile Thread holderThread;
    /** Fence slots reserved under the current lock; only the holder touches it. */
    private int reserved;
    private volatile List<Entry> fences = List.of();

    /** @param owner describes the buffer, for messages */
    public ResvImpl(Supplier<String> owner) {
        this.owner = owner;
    }

    // ---- the ww mutex (driven by AcquireCtx) --------------------------------------------------------------------

    /** Locks for ctx; {@code mayDie} is false in the slow path (the context holds nothing). */
    void lock(AcquireCtx ctx, boolean mayDie, long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        monitor.lock();
        try {
            if (holder == ctx) {
                throw Errors.error(Errno.EALREADY, "acquire context " + ctx.stamp() + " already holds the lock of the "
                        + "reservation object of " + owner.get());
            }
            while (holder != null) {
                if (mayDie && ctx.heldCount() > 0 && ctx.stamp() > holder.stamp()) {
                    throw new BackOff(this, "acquire context " + ctx.stamp() + " must back off: the older context "
                            + holder.stamp() + " holds the reservation object of " + owner.get());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw Errors.error(Errno.ETIMEDOUT, "timed out after " + timeoutMillis + " ms waiting for the "
                            + "reservation lock of " + owner.get() + ", held by acquire context " + holder.stamp()
                            + " on thread " + holderThread);
                }
                try {
                    released.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw Errors.error(Errno.EINTR, "interrupted while waiting for the reservation lock of "
                            + owner.get());
                }
            }
            holder = ctx;
            holderThread = Thread.currentThread();
            reserved = 0;
        } finally {
            monitor.unlock();
        }
    }

    /** Unlocks; the reservation of fence slots ends with the lock. */
    void unlock(AcquireCtx ctx) {
        monitor.lock();
        try {
            if (holder != ctx) {
                throw Errors.error(Errno.EPERM, "acquire context " + ctx.stamp() + " does not hold the reservation "
                        + "lock of " + owner.get());
            }
            holder = null;
            holderThread = null;
            reserved = 0;
            released.signalAll();
        } finally {
            monitor.unlock();
        }
    }

    @Override
    public boolean isLocked() {
        monitor.lock();
        try {
            return holder != null;
        } finally {
            monitor.unlock();
        }
    }

    private void checkHeld(String op) {
        if (holderThread != Thread.currentThread()) {
            throw Errors.error(Errno.EPERM, op + " on the reservation object of " + owner.get() + " needs its lock: "
                    + "lock it through an AcquireContext on this thread first");
        }
    }

    // ---- fences ---------------------------------------------------------------------------------------------------

    @Override
    public void reserveFences(int count) {
        if (count < 0) {
            throw Errors.einval("reserveFences(" + count + "): the count must not be negative");
        }
        checkHeld("reserveFences");
        reserved += count;
    }

    @Override
    public void addFence(DmaFence fence, DmaResvUsage usage) {
        if (fence == null || usage == null) {
            throw Errors.einval("addFence needs a fence and a usage, not " + fence + ", " + usage);
        }
        checkHeld("addFence");
        if (reserved <= 0) {
            throw Errors.einval("addFence on the reservation object of " + owner.get() + " without a reserved slot: "
                    + "call reserveFences first, under the same lock");
        }
        reserved--;
        List<Entry> next = new ArrayList<>(fences.size() + 1);
        for (Entry e : fences) {
            boolean replaced = e.fence().isSignaled()
                    || (e.fence().context() == fence.context() && e.usage().ordinal() >= usage.ordinal()
                            && e.fence().seqno() <= fence.seqno());
            if (!replaced) {
                next.add(e);
            }
        }
        next.add(new Entry(fence, usage));
        fences = List.copyOf(next);
    }

    @Override
    public List<Entry> fences(DmaResvUsage usage) {
        List<Entry> snapshot = fences;
        List<Entry> out = new ArrayList<>(snapshot.size());
        for (Entry e : snapshot) {
            if (usage.includes(e.usage())) {
                out.add(e);
            }
        }
        return out;
    }

    /** Every fence, for listings. */
    public List<Entry> allFences() {
        return fences;
    }

    /** The unsignalled fences at or below the usage, in the snapshot taken now. */
    public List<DmaFence> pending(DmaResvUsage usage) {
        List<DmaFence> out = new ArrayList<>();
        for (Entry e : fences(usage)) {
            if (!e.fence().isSignaled()) {
                out.add(e.fence());
            }
        }
        return out;
    }

    @Override
    public boolean testSignaled(DmaResvUsage usage) {
        List<Entry> all = fences;
        for (int i = 0; i < all.size(); i++) { // indexed: no iterator on the begin/map hot paths
            Entry e = all.get(i);
            if (usage.includes(e.usage()) && !e.fence().isSignaled()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean await(DmaResvUsage usage, long timeout, TimeUnit unit) {
        if (timeout < 0) {
            throw Errors.einval("a reservation wait needs a timeout of at least 0, not " + timeout + " " + unit);
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (DmaFence f : pending(usage)) {
            if (!f.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public CompletionStage<Void> whenSignaled(DmaResvUsage usage) {
        List<DmaFence> waitFor = pending(usage);
        if (waitFor.isEmpty()) {
            return CompletableFuture.<Void>completedFuture(null).minimalCompletionStage();
        }
        CompletableFuture<?>[] stages = new CompletableFuture<?>[waitFor.size()];
        for (int i = 0; i < stages.length; i++) {
            stages[i] = waitFor.get(i).whenSignaled().toCompletableFuture();
        }
        return CompletableFuture.allOf(stages).minimalCompletionStage();
    }

    @Override
    public String toString() {
        return "reservation object of " + owner.get();
    }

    /** EDEADLK telling a context to back off, naming the contended lock so the slow path can wait for it. */
    static final class BackOff extends dmabuf.api.DmaBufException {
        private static final long serialVersionUID = 1L;
        final transient ResvImpl contended;

        BackOff(ResvImpl contended, String message) {
            super(Errno.EDEADLK, message);
            this.contended = contended;
        }
    }
}
