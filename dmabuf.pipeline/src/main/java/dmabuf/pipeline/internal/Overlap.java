package dmabuf.pipeline.internal;

/**
 * How much the stages overlap: the time-weighted mean number of stages working at once, and the time two or more
 * worked at once. Thread-safe.
 */
final class Overlap {
    private final long startNanos = System.nanoTime();
    private int busy;
    private long lastChange = startNanos;
    private double busyIntegralNanos;
    private long overlappedNanos;

    private void advance(long now) {
        long dt = now - lastChange;
        busyIntegralNanos += (double) busy * dt;
        if (busy >= 2) {
            overlappedNanos += dt;
        }
        lastChange = now;
    }

    /** A stage starts working. */
    synchronized void enter() {
        advance(System.nanoTime());
        busy++;
    }

    /** A stage stops working. */
    synchronized void exit() {
        advance(System.nanoTime());
        busy--;
    }

    /** The mean number of stages working at once from the start until {@code endNanos}. */
    synchronized double meanInFlight(long endNanos) {
        advance(Math.max(lastChange, endNanos));
        long elapsed = endNanos - startNanos;
        return elapsed > 0 ? busyIntegralNanos / elapsed : 0;
    }

    /** The time two or more stages worked at once, in milliseconds. */
    synchronized long overlappedMillis() {
        return overlappedNanos / 1_000_000;
    }
}
