package dmabuf.pipeline.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The hand-off from one stage to the next: a bounded FIFO whose order is the frame order. Every wait is bounded and
 * gives up once the run is cancelled, so a stopping run never hangs on it. This is the one place that orders stages;
 * swapping the queue for dma-fences changes this class only.
 *
 * @param <T> what travels: buffer indices and frame numbers, never pixels
 */
final class Handoff<T> {
    /** How often a waiting stage looks at the cancel flag. */
    private static final long POLL_MILLIS = 50;

    private final BlockingQueue<T> queue;
    private final BooleanSupplier cancelled;

    Handoff(int capacity, BooleanSupplier cancelled) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.cancelled = cancelled;
    }

    /** Passes {@code item} on; false when the run was cancelled first. */
    boolean put(T item) throws InterruptedException {
        while (!cancelled.getAsBoolean()) {
            if (queue.offer(item, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
                return true;
            }
        }
        return false;
    }

    /** The next item in order; null when the run was cancelled first. */
    T take() throws InterruptedException {
        while (!cancelled.getAsBoolean()) {
            T item = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
            if (item != null) {
                return item;
            }
        }
        return null;
    }

    /** What is still waiting, removed (for teardown). */
    List<T> drain() {
        List<T> rest = new ArrayList<>();
        queue.drainTo(rest);
        return rest;
    }
}
