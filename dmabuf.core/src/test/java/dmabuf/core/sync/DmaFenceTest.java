package dmabuf.core.sync;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dmabuf.api.Errno;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.CoreFixture;

/** The rules of {@code DmaFence} and {@code FenceContext}, after the kernel's dma-fence selftests. */
class DmaFenceTest {
    private final CoreFixture fx = new CoreFixture();
    private final FenceContext ctx = fx.exp.fenceContext("gpu", "ring0");

    @Test
    void sanityANewFenceIsPendingAndSignalsOnce() {
        DmaFence f = ctx.createFence();
        assertFalse(f.isSignaled());
        assertEquals(0, f.status());
        f.signal();
        assertTrue(f.isSignaled());
        assertEquals(1, f.status());
        assertErrno(Errno.EALREADY, f::signal);
        assertEquals(1, f.status());
    }

    @Test
    void callbackRunsExactlyOnceOnSignal() {
        DmaFence f = ctx.createFence();
        AtomicInteger runs = new AtomicInteger();
        assertTrue(f.addCallback(x -> runs.incrementAndGet()));
        assertEquals(0, runs.get());
        f.signal();
        assertEquals(1, runs.get());
        assertErrno(Errno.EALREADY, f::signal);
        assertEquals(1, runs.get());
    }

    @Test
    void lateAddCallbackReportsSignalledAndNeverRuns() {
        DmaFence f = ctx.createFence();
        f.signal();
        AtomicInteger runs = new AtomicInteger();
        assertFalse(f.addCallback(x -> runs.incrementAndGet()));
        assertEquals(0, runs.get());
    }

    @Test
    void removeBeforeSignalStopsTheCallback() {
        DmaFence f = ctx.createFence();
        AtomicInteger runs = new AtomicInteger();
        DmaFence.Callback cb = x -> runs.incrementAndGet();
        assertTrue(f.addCallback(cb));
        assertTrue(f.removeCallback(cb));
        f.signal();
        assertEquals(0, runs.get());
    }

    @Test
    void lateRemoveReportsTheCallbackRan() {
        DmaFence f = ctx.createFence();
        AtomicInteger runs = new AtomicInteger();
        DmaFence.Callback cb = x -> runs.incrementAndGet();
        f.addCallback(cb);
        f.signal();
        assertFalse(f.removeCallback(cb));
        assertEquals(1, runs.get());
    }

    @Test
    void aThrowingCallbackDoesNotStopTheOthers() {
        DmaFence f = ctx.createFence();
        AtomicInteger runs = new AtomicInteger();
        f.addCallback(x -> {
            throw new IllegalStateException("driver bug");
        });
        f.addCallback(x -> runs.incrementAndGet());
        f.signal();
        assertEquals(1, runs.get());
        assertEquals(1, fx.log.errors.size(), fx.log.errors::toString);
    }

    @Test
    void errorShowsOnlyAfterSignal() {
        DmaFence f = ctx.createFence();
        f.setError(Errno.EIO);
        assertEquals(0, f.status());
        assertEquals(Optional.empty(), f.error());
        f.signal();
        assertEquals(-Errno.EIO.number(), f.status());
        assertEquals(Optional.of(Errno.EIO), f.error());
        assertErrno(Errno.EALREADY, () -> f.setError(Errno.ENOMEM));
        assertEquals(Optional.of(Errno.EIO), f.error());
    }

    @Test
    void setErrorNeedsAnErrno() {
        assertErrno(Errno.EINVAL, () -> ctx.createFence().setError(null));
    }

    @Test
    void waitRefusesANegativeTimeoutAndPollsWithZero() {
        DmaFence f = ctx.createFence();
        assertErrno(Errno.EINVAL, () -> f.await(-1, TimeUnit.MILLISECONDS));
        assertFalse(f.await(0, TimeUnit.MILLISECONDS));
        f.signal();
        assertTrue(f.await(0, TimeUnit.MILLISECONDS));
    }

    @Test
    void waitTimesOutWhenNobodySignals() {
        DmaFence f = ctx.createFence();
        long start = System.nanoTime();
        assertFalse(f.await(30, TimeUnit.MILLISECONDS));
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(30));
    }

    @Test
    void waitWakesWhenAnotherThreadSignals() throws Exception {
        DmaFence f = ctx.createFence();
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicBoolean woke = new AtomicBoolean();
        Thread waiter = Thread.ofPlatform().start(() -> {
            waiting.countDown();
            woke.set(f.await(10, TimeUnit.SECONDS));
        });
        assertTrue(waiting.await(5, TimeUnit.SECONDS));
        f.signal();
        waiter.join(TimeUnit.SECONDS.toMillis(10));
        assertTrue(woke.get());
    }

    @Test
    void interruptedWaitIsEintr() {
        DmaFence f = ctx.createFence();
        Thread.currentThread().interrupt();
        try {
            assertErrno(Errno.EINTR, () -> f.await(1, TimeUnit.SECONDS));
        } finally {
            assertTrue(Thread.interrupted());
        }
    }

    @Test
    void whenSignaledCompletesWithTheFenceEvenWithAnError() throws Exception {
        DmaFence f = ctx.createFence();
        var stage = f.whenSignaled().toCompletableFuture();
        assertFalse(stage.isDone());
        f.setError(Errno.EIO);
        f.signal();
        assertSame(f, stage.get(5, TimeUnit.SECONDS));
        assertTrue(f.whenSignaled().toCompletableFuture().isDone());
    }

    @Test
    void theStubIsAlwaysSignalled() {
        DmaFence stub = fx.imp.stubFence();
        assertTrue(stub.isSignaled());
        assertEquals(1, stub.status());
        assertEquals(0, stub.context());
        assertTrue(stub.await(0, TimeUnit.SECONDS));
        assertErrno(Errno.EALREADY, stub::signal);
        assertSame(stub, fx.exp.stubFence());
    }

    @Test
    void contextsHaveDistinctIdsAndOrderedSeqnos() {
        FenceContext other = fx.imp.fenceContext("display", "crtc0");
        assertNotEquals(ctx.id(), other.id());
        assertNotEquals(0, ctx.id());
        DmaFence a = ctx.createFence();
        DmaFence b = ctx.createFence();
        assertTrue(b.seqno() > a.seqno());
        assertTrue(b.isLaterThan(a));
        assertFalse(a.isLaterThan(b));
        assertEquals("gpu", a.driverName());
        assertEquals("ring0", a.timelineName());
        assertEquals(ctx.id(), a.context());
        assertErrno(Errno.EINVAL, () -> a.isLaterThan(other.createFence()));
        assertEquals(2, ctx.unsignaledCount());
        a.signal();
        assertEquals(1, ctx.unsignaledCount());
    }

    @Test
    void aContextNeedsNames() {
        assertErrno(Errno.EINVAL, () -> fx.exp.fenceContext(" ", "ring"));
        assertErrno(Errno.EINVAL, () -> fx.exp.fenceContext("gpu", null));
    }

    @Test
    void signalRacingAddCallbackNeverLosesACallback() throws Exception {
        int rounds = 2000;
        for (int i = 0; i < rounds; i++) {
            DmaFence f = ctx.createFence();
            AtomicInteger runs = new AtomicInteger();
            CyclicBarrier start = new CyclicBarrier(2);
            AtomicBoolean added = new AtomicBoolean();
            Thread adder = Thread.ofPlatform().start(() -> {
                await(start);
                added.set(f.addCallback(x -> runs.incrementAndGet()));
            });
            await(start);
            f.signal();
            adder.join(TimeUnit.SECONDS.toMillis(10));
            assertEquals(added.get() ? 1 : 0, runs.get(), "round " + i + ": added=" + added.get());
        }
    }

    @Test
    void manyWaitersAllWake() throws Exception {
        DmaFence f = ctx.createFence();
        List<Boolean> results = new CopyOnWriteArrayList<>();
        CountDownLatch ready = new CountDownLatch(8);
        List<Thread> threads = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                ready.countDown();
                results.add(f.await(10, TimeUnit.SECONDS));
            }));
        }
        assertTrue(ready.await(5, TimeUnit.SECONDS));
        f.signal();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(10));
        }
        assertEquals(List.of(true, true, true, true, true, true, true, true), results);
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
