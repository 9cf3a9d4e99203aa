package dmabuf.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

/** The stage hand-off: frame order, bounded capacity, and cancellation ending every wait. */
class HandoffTest {

    @Test
    void itemsArriveInOrder() throws InterruptedException {
        Handoff<Integer> h = new Handoff<>(4, () -> false);
        for (int i = 0; i < 4; i++) {
            assertTrue(h.put(i));
        }
        for (int i = 0; i < 4; i++) {
            assertEquals(i, h.take());
        }
    }

    @Test
    void cancellationEndsAWaitingTakeAndAPutIntoAFullHandoff() throws Exception {
        AtomicBoolean cancelled = new AtomicBoolean();
        Handoff<Integer> empty = new Handoff<>(1, cancelled::get);
        Handoff<Integer> full = new Handoff<>(1, cancelled::get);
        assertTrue(full.put(1));
        CompletableFuture<Integer> taker = CompletableFuture.supplyAsync(() -> {
            try {
                return empty.take();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        CompletableFuture<Boolean> putter = CompletableFuture.supplyAsync(() -> {
            try {
                return full.put(2);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertFalse(taker.isDone() && putter.isDone(), "both wait while the run goes on");

        cancelled.set(true);

        assertNull(taker.get(5, TimeUnit.SECONDS));
        assertFalse(putter.get(5, TimeUnit.SECONDS));
        assertEquals(List.of(1), full.drain());
    }

    @Test
    void percentilesAreNearestRank() {
        long[] sorted = new long[100];
        for (int i = 0; i < 100; i++) {
            sorted[i] = i + 1;
        }
        assertEquals(50, StageStats.percentile(sorted, 0.50));
        assertEquals(99, StageStats.percentile(sorted, 0.99));
        assertEquals(7, StageStats.percentile(new long[] {7}, 0.99));
    }
}
