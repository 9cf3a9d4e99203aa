package dmabuf.core.sync;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.Errno;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResv;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.CoreFixture;
import dmabuf.core.TestExporter;

/** The rules of {@code DmaResv}, after the kernel's dma-resv selftests. */
class DmaResvTest {
    private final CoreFixture fx = new CoreFixture();
    private final DmaBuf buf = fx.export(new TestExporter(4096), 4096);
    private final DmaResv resv = buf.resv();
    private final FenceContext ctx = fx.exp.fenceContext("gpu", "ring0");

    private DmaFence add(DmaFence f, DmaResvUsage usage) {
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(resv);
            resv.reserveFences(1);
            resv.addFence(f, usage);
        }
        return f;
    }

    private static List<DmaFence> fences(List<DmaResv.Entry> entries) {
        return entries.stream().map(DmaResv.Entry::fence).toList();
    }

    @Test
    void addingNeedsTheLock() {
        assertErrno(Errno.EPERM, () -> resv.reserveFences(1));
        assertErrno(Errno.EPERM, () -> resv.addFence(ctx.createFence(), DmaResvUsage.WRITE));
    }

    @Test
    void addingNeedsAReservedSlotAndTheReservationEndsWithTheLock() {
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(resv);
            assertErrno(Errno.EINVAL, () -> resv.addFence(ctx.createFence(), DmaResvUsage.WRITE));
            assertErrno(Errno.EINVAL, () -> resv.reserveFences(-1));
            resv.reserveFences(1);
            resv.addFence(ctx.createFence(), DmaResvUsage.WRITE);
            assertErrno(Errno.EINVAL, () -> resv.addFence(ctx.createFence(), DmaResvUsage.READ));
            resv.reserveFences(1);
            ac.unlock(resv);
            ac.lock(resv);
            assertErrno(Errno.EINVAL, () -> resv.addFence(ctx.createFence(), DmaResvUsage.READ));
            assertErrno(Errno.EINVAL, () -> resv.addFence(null, DmaResvUsage.READ));
        }
        assertEquals(1, resv.fences(DmaResvUsage.BOOKKEEP).size());
    }

    @Test
    void aQueryReturnsEveryFenceAtOrBelowTheUsage() {
        DmaFence kernel = add(fx.exp.fenceContext("mm", "move").createFence(), DmaResvUsage.KERNEL);
        DmaFence write = add(ctx.createFence(), DmaResvUsage.WRITE);
        DmaFence read = add(fx.imp.fenceContext("display", "crtc").createFence(), DmaResvUsage.READ);
        DmaFence book = add(fx.imp.fenceContext("vm", "pt").createFence(), DmaResvUsage.BOOKKEEP);
        assertEquals(List.of(kernel), fences(resv.fences(DmaResvUsage.KERNEL)));
        assertEquals(List.of(kernel, write), fences(resv.fences(DmaResvUsage.WRITE)));
        assertEquals(List.of(kernel, write, read), fences(resv.fences(DmaResvUsage.READ)));
        assertEquals(List.of(kernel, write, read, book), fences(resv.fences(DmaResvUsage.BOOKKEEP)));
        assertTrue(DmaResvUsage.READ.includes(DmaResvUsage.WRITE));
        assertFalse(DmaResvUsage.WRITE.includes(DmaResvUsage.READ));
    }

    @Test
    void aLaterFenceOfTheSameContextReplacesAnEarlierOneAndSignalledFencesGo() {
        DmaFence first = add(ctx.createFence(), DmaResvUsage.READ);
        DmaFence second = add(ctx.createFence(), DmaResvUsage.READ);
        assertEquals(List.of(second), fences(resv.fences(DmaResvUsage.BOOKKEEP)));
        DmaFence other = add(fx.imp.fenceContext("display", "crtc").createFence(), DmaResvUsage.READ);
        other.signal();
        DmaFence third = add(ctx.createFence(), DmaResvUsage.WRITE); // stricter: replaces the READ one
        assertEquals(List.of(third), fences(resv.fences(DmaResvUsage.BOOKKEEP)));
        assertFalse(first.isSignaled());
        DmaFence bookkeep = add(ctx.createFence(), DmaResvUsage.BOOKKEEP); // laxer: keeps the WRITE one
        assertEquals(List.of(third, bookkeep), fences(resv.fences(DmaResvUsage.BOOKKEEP)));
    }

    @Test
    void testSignaledAndAwaitLookOnlyAtTheUsageAsked() {
        DmaFence read = add(ctx.createFence(), DmaResvUsage.READ);
        assertTrue(resv.testSignaled(DmaResvUsage.WRITE));
        assertFalse(resv.testSignaled(DmaResvUsage.READ));
        assertTrue(resv.await(DmaResvUsage.WRITE, 0, TimeUnit.SECONDS));
        assertFalse(resv.await(DmaResvUsage.READ, 0, TimeUnit.SECONDS));
        assertFalse(resv.await(DmaResvUsage.READ, 20, TimeUnit.MILLISECONDS));
        assertErrno(Errno.EINVAL, () -> resv.await(DmaResvUsage.READ, -1, TimeUnit.SECONDS));
        read.signal();
        assertTrue(resv.await(DmaResvUsage.BOOKKEEP, 0, TimeUnit.SECONDS));
    }

    @Test
    void awaitWakesWhenTheFenceSignalsFromAnotherThread() throws Exception {
        DmaFence write = add(ctx.createFence(), DmaResvUsage.WRITE);
        AtomicBoolean result = new AtomicBoolean();
        Thread waiter = Thread.ofPlatform().start(() -> result.set(resv.await(DmaResvUsage.WRITE, 10,
                TimeUnit.SECONDS)));
        write.signal();
        waiter.join(TimeUnit.SECONDS.toMillis(10));
        assertTrue(result.get());
    }

    @Test
    void whenSignaledCompletesWhenEveryFenceOfTheSnapshotDid() throws Exception {
        DmaFence a = add(ctx.createFence(), DmaResvUsage.WRITE);
        DmaFence b = add(fx.imp.fenceContext("display", "crtc").createFence(), DmaResvUsage.READ);
        CompletableFuture<Void> writes = resv.whenSignaled(DmaResvUsage.WRITE).toCompletableFuture();
        CompletableFuture<Void> all = resv.whenSignaled(DmaResvUsage.READ).toCompletableFuture();
        assertFalse(writes.isDone());
        a.signal();
        writes.get(5, TimeUnit.SECONDS);
        assertFalse(all.isDone());
        b.signal();
        all.get(5, TimeUnit.SECONDS);
        assertTrue(resv.whenSignaled(DmaResvUsage.BOOKKEEP).toCompletableFuture().isDone());
    }

    @Test
    void iterationIsSafeAgainstConcurrentUpdates() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        FenceContext[] contexts = new FenceContext[8];
        for (int i = 0; i < contexts.length; i++) {
            contexts[i] = fx.exp.fenceContext("gpu", "ring" + i);
        }
        Thread writer = Thread.ofPlatform().start(() -> {
            try (AcquireContext ac = fx.exp.acquireContext()) {
                for (int i = 0; i < 5000; i++) {
                    ac.lock(resv);
                    resv.reserveFences(1);
                    DmaFence f = contexts[i % contexts.length].createFence();
                    resv.addFence(f, i % 2 == 0 ? DmaResvUsage.WRITE : DmaResvUsage.READ);
                    ac.unlock(resv);
                    if (i % 3 == 0) {
                        f.signal();
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            } finally {
                stop.set(true);
            }
        });
        int reads = 0;
        while (!stop.get()) {
            List<DmaResv.Entry> snapshot = resv.fences(DmaResvUsage.BOOKKEEP);
            List<DmaResv.Entry> copy = new ArrayList<>(snapshot);
            for (DmaResv.Entry e : snapshot) {
                assertTrue(e.fence().context() > 0);
            }
            assertEquals(copy, snapshot, "a snapshot changed under the reader");
            assertTrue(snapshot.size() <= contexts.length, "one fence per context at most: " + snapshot.size());
            reads++;
        }
        writer.join(TimeUnit.SECONDS.toMillis(30));
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertTrue(reads > 0);
    }

    @Test
    void theResvOutlivesTheBuffer() {
        DmaFence f = add(ctx.createFence(), DmaResvUsage.WRITE);
        fx.exp.put(buf);
        assertFalse(resv.testSignaled(DmaResvUsage.WRITE));
        f.signal();
        assertTrue(resv.await(DmaResvUsage.WRITE, 0, TimeUnit.SECONDS));
    }
}
