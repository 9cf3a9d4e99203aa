package dmabuf.core.sync;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import dmabuf.api.Errno;
import dmabuf.api.sync.DmaFence;
import dmabuf.core.CoreLog;
import dmabuf.core.Errors;

/**
 * A fence that signals when all its members have (the kernel's {@code dma_fence_array} with signal-on-any false),
 * with the first error a member signalled with. Sync files hold one to snapshot several fences.
 */
final class FenceArray extends Fence {
    private final List<DmaFence> members;

    private FenceArray(long context, List<DmaFence> members, CoreLog log, Signalling signalling) {
        super(context, 1, "dma_fence_array", "unbound", log, signalling);
        this.members = List.copyOf(members);
    }

    /** Builds the array and arms it; signalled at once if every member already is. */
    static FenceArray of(long context, List<DmaFence> members, CoreLog log, Signalling signalling) {
        FenceArray array = new FenceArray(context, members, log, signalling);
        AtomicInteger pending = new AtomicInteger(array.members.size() + 1);
        DmaFence.Callback memberDone = f -> {
            if (pending.decrementAndGet() == 0) {
                array.signalWith(firstError(array.members), false);
            }
        };
        for (DmaFence m : array.members) {
            if (!m.addCallback(memberDone)) {
                memberDone.signaled(m);
            }
        }
        memberDone.signaled(array); // the +1 keeps it from signalling before every member was armed
        return array;
    }

    private static Errno firstError(List<DmaFence> members) {
        for (DmaFence m : members) {
            if (m.error().isPresent()) {
                return m.error().get();
            }
        }
        return null;
    }

    /** The fences it waits for. */
    List<DmaFence> members() {
        return members;
    }

    @Override
    public void signal() {
        throw Errors.error(Errno.EPERM, this + " signals when its " + members.size() + " fence(s) have; it cannot be"
                + " signalled by hand");
    }

    @Override
    public void setError(Errno errorToSet) {
        throw Errors.error(Errno.EPERM, this + " takes its error from its fences; it cannot be set by hand");
    }
}
