package dmabuf.core.sync;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaResv;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreFixture;
import dmabuf.core.TestExporter;

/** The wait-die acquire protocol, after the kernel's ww_mutex selftests. */
class AcquireContextTest {
    private final CoreFixture fx = new CoreFixture(CoreConfig.DEFAULTS.withTimeouts(300, 2000));
    private final DmaResv a = buffer().resv();
    private final DmaResv b = buffer().resv();

    private DmaBuf buffer() {
        return fx.export(new TestExporter(4096), 4096);
    }

    /** Runs on another thread and waits for it (bounded). */
    private static <T> T onOtherThread(java.util.concurrent.Callable<T> call) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return call.call();
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, r -> Thread.ofPlatform().start(r)).get(10, TimeUnit.SECONDS);
    }

    @Test
    void lockingTwiceIsEalreadyAndUnlockingWhatIsNotHeldIsEperm() {
        try (AcquireContext ctx = fx.exp.acquireContext()) {
            ctx.lock(a);
            assertTrue(a.isLocked());
            assertErrno(Errno.EALREADY, () -> ctx.lock(a));
            assertErrno(Errno.EPERM, () -> ctx.unlock(b));
        }
        assertFalse(a.isLocked(), "close unlocks what is still held");
    }

    @Test
    void stampsGrowWithAge() {
        try (AcquireContext older = fx.exp.acquireContext(); AcquireContext younger = fx.imp.acquireContext()) {
            assertTrue(older.stamp() < younger.stamp());
        }
    }

    @Test
    void theYoungerBacksOffWhenItHoldsALockTheOlderHas() throws Exception {
        AcquireContext older = fx.exp.acquireContext();
        AcquireContext younger = fx.imp.acquireContext();
        older.lock(a);
        younger.lock(b);
        DmaBufException e = assertErrno(Errno.EDEADLK, () -> younger.lock(a));
        assertTrue(e.getMessage().contains("back off"), e::getMessage);
        assertEquals(1, younger.backoffs());
        // backing off: the younger drops what it holds, the older takes it, the younger waits in the slow path
        younger.unlockAll();
        older.lock(b);
        CompletableFuture<Void> slow = CompletableFuture.runAsync(() -> younger.lockSlow(a),
                r -> Thread.ofPlatform().start(r));
        assertFalse(slow.isDone());
        older.close();
        slow.get(5, TimeUnit.SECONDS);
        younger.lock(b);
        younger.close();
        assertFalse(a.isLocked());
        assertFalse(b.isLocked());
    }

    @Test
    void theOlderWaitsForTheYoungerAndGetsTheLockWhenItIsReleased() throws Exception {
        AcquireContext older = fx.exp.acquireContext();
        AcquireContext younger = fx.imp.acquireContext();
        younger.lock(b);
        older.lock(a);
        CountDownLatch started = new CountDownLatch(1);
        CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
            started.countDown();
            older.lock(b); // older with a lock held: waits, does not die
            return b.isLocked();
        }, r -> Thread.ofPlatform().start(r));
        assertTrue(started.await(5, TimeUnit.SECONDS));
        assertFalse(waiter.isDone());
        younger.unlock(b);
        assertTrue(waiter.get(5, TimeUnit.SECONDS));
        older.close();
        younger.close();
    }

    @Test
    void aContextHoldingNothingWaitsEvenWhenYounger() throws Exception {
        AcquireContext older = fx.exp.acquireContext();
        older.lock(a);
        AcquireContext younger = fx.imp.acquireContext();
        CompletableFuture<Void> waiter = CompletableFuture.runAsync(() -> younger.lock(a),
                r -> Thread.ofPlatform().start(r));
        older.unlock(a);
        waiter.get(5, TimeUnit.SECONDS);
        assertTrue(a.isLocked());
        younger.close();
        older.close();
    }

    @Test
    void lockWaitsAreBounded() throws Exception {
        AcquireContext holder = fx.exp.acquireContext();
        holder.lock(a);
        DmaBufException e = onOtherThread(() -> {
            try (AcquireContext waiter = fx.imp.acquireContext()) {
                return org.junit.jupiter.api.Assertions.assertThrows(DmaBufException.class, () -> waiter.lock(a));
            }
        });
        assertEquals(Errno.ETIMEDOUT, e.errno(), e::getMessage);
        holder.close();
    }

    @Test
    void lockSlowNeedsAnEmptyHand() {
        try (AcquireContext ctx = fx.exp.acquireContext()) {
            ctx.lock(a);
            assertErrno(Errno.EINVAL, () -> ctx.lockSlow(b));
        }
    }

    @Test
    void doneAndCloseEndTheAcquirePhase() {
        AcquireContext ctx = fx.exp.acquireContext();
        ctx.lock(a);
        ctx.done();
        assertErrno(Errno.EINVAL, () -> ctx.lock(b));
        ctx.unlock(a);
        ctx.close();
        assertErrno(Errno.EINVAL, () -> ctx.lockAll(List.of(a)));
    }

    @Test
    void lockAllTakesEveryLockInAnyOrderAndSkipsDuplicates() throws Exception {
        try (AcquireContext ctx = fx.exp.acquireContext()) {
            ctx.lockAll(List.of(b, a, b));
            assertTrue(a.isLocked() && b.isLocked());
        }
        assertFalse(a.isLocked() || b.isLocked());
    }

    @Test
    void lockAllBacksOffAndRetriesUntilItHoldsEverything() throws Exception {
        AcquireContext older = fx.exp.acquireContext();
        AcquireContext younger = fx.imp.acquireContext();
        older.lock(a);
        CountDownLatch youngerHoldsB = new CountDownLatch(1);
        CompletableFuture<Integer> youngerJob = CompletableFuture.supplyAsync(() -> {
            younger.lock(b);
            youngerHoldsB.countDown();
            younger.lockAll(List.of(b, a)); // holds b, meets the older a: backs off, waits, retries
            int backoffs = younger.backoffs();
            younger.close();
            return backoffs;
        }, r -> Thread.ofPlatform().start(r));
        assertTrue(youngerHoldsB.await(5, TimeUnit.SECONDS));
        older.lockAll(List.of(a, b)); // waits for b until the younger backs off
        older.close();
        assertTrue(youngerJob.get(10, TimeUnit.SECONDS) >= 1);
    }
}
