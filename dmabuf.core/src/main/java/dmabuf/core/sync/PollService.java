package dmabuf.core.sync;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import dmabuf.api.DmaBufUapi;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.core.DmaBufCore;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;

/**
 * {@code poll} on a dma-buf fd: POLLIN when no write (or kernel) fence is pending, POLLOUT when no fence but
 * BOOKKEEP is pending, POLLERR when the buffer was revoked.
 * <p>
 * DOC: poll keeps the buffer alive. An asynchronous poll holds a reference to the buffer until its stage completes
 * (the kernel takes a file reference while a poll callback is armed), so the fd may be closed meanwhile without the
 * buffer being released under the callback.
 */
public final class PollService {
    private static final int KNOWN = DmaBufUapi.POLLIN | DmaBufUapi.POLLOUT;

    private final DmaBufCore core;

    /** @param core the core */
    public PollService(DmaBufCore core) {
        this.core = core;
    }

    /** The events of those requested that are ready now, plus POLLERR for a revoked buffer. */
    static int ready(Buffer b, int events) {
        ResvImpl resv = b.resv();
        int ready = 0;
        if ((events & DmaBufUapi.POLLIN) != 0 && resv.testSignaled(DmaResvUsage.WRITE)) {
            ready |= DmaBufUapi.POLLIN;
        }
        if ((events & DmaBufUapi.POLLOUT) != 0 && resv.testSignaled(DmaResvUsage.READ)) {
            ready |= DmaBufUapi.POLLOUT;
        }
        if (b.state() == Buffer.State.REVOKED) {
            ready |= DmaBufUapi.POLLERR;
        }
        return ready;
    }

    /** What becoming ready waits for: POLLIN needs the write fences, POLLOUT all of them. */
    private static DmaResvUsage waitUsage(int events) {
        return (events & DmaBufUapi.POLLIN) != 0 ? DmaResvUsage.WRITE : DmaResvUsage.READ;
    }

    /** Blocking poll with a timeout. */
    public int poll(Client client, int fd, int events, long timeout, TimeUnit unit) {
        Buffer b = client.files().get(fd).buffer();
        if (timeout < 0) {
            throw Errors.einval("poll needs a timeout of at least 0, not " + timeout + " " + unit
                    + " (waits are always bounded)");
        }
        int wanted = events & KNOWN;
        if (wanted == 0) {
            return ready(b, 0);
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (true) {
            int r = ready(b, wanted);
            if (r != 0) {
                return r;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || !b.resv().await(waitUsage(wanted), left, TimeUnit.NANOSECONDS)) {
                return ready(b, wanted);
            }
        }
    }

    /** Asynchronous poll: completes once a requested event is ready; holds a buffer reference until then. */
    public CompletionStage<Integer> pollAsync(Client client, int fd, int events) {
        Buffer b = client.files().get(fd).buffer();
        int wanted = events & KNOWN;
        if (wanted == 0) {
            throw Errors.einval(String.format("pollAsync needs POLLIN or POLLOUT, not events 0x%x", events));
        }
        b.getRef();
        CompletableFuture<Integer> result = new CompletableFuture<>();
        result.whenComplete((r, e) -> core.lifecycle().dropRef(b));
        arm(b, wanted, result);
        return result.minimalCompletionStage();
    }

    private void arm(Buffer b, int wanted, CompletableFuture<Integer> result) {
        int r = ready(b, wanted);
        if (r != 0) {
            result.complete(r);
            return;
        }
        // fences added after the snapshot make the re-check come out 0: arm again on the new snapshot
        b.resv().whenSignaled(waitUsage(wanted)).whenComplete((v, e) -> arm(b, wanted, result));
    }
}
