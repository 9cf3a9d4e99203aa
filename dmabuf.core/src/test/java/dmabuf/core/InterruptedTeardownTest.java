package dmabuf.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.Errno;

/**
 * A teardown runs to the end on an interrupted thread: a bundle may be stopped from a thread whose interrupt flag is
 * set (an executor shut down with shutdownNow, a management agent cancelled), and a revoke or reclaim that gave up on
 * the buffer's lock there would detach and release without it and log an error. The lock wait ignores the interrupt
 * (bounded by lock.timeout.ms) and restores the flag for the caller.
 */
class InterruptedTeardownTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;

    private final CoreFixture fx = new CoreFixture();

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    @Test
    void revokeOnAnInterruptedThreadTearsDownUnderTheLockAndKeepsTheFlag() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.exportShared(ops, PAGE);
        DmaBufAttachment att = fx.imp.attach(buf, Device.of("gpu"));
        fx.imp.mapAttachment(att, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment view = fx.imp.vmap(buf);

        Thread.currentThread().interrupt();
        fx.exp.revoke(buf);

        assertTrue(Thread.currentThread().isInterrupted(), "the interrupt flag is restored for the caller");
        Thread.interrupted();
        assertEquals(List.of(), fx.log.errors, "nothing was torn down without the lock");
        assertEquals(1, ops.count("release"));
        assertEquals(1, ops.count("detach"), "the exporter's detach ran for the linked attachment");
        assertEquals(1, ops.count("vunmap"), "the exporter's vmap was undone");
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0));
        CoreFixture.assertErrno(Errno.ENODEV, () -> fx.imp.mapAttachment(att, DmaDataDirection.BIDIRECTIONAL));
    }

    @Test
    void reclaimOnAnInterruptedThreadReleasesEverythingOnce() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.exportShared(ops, PAGE);
        fx.exp.put(buf);
        DmaBufAttachment att = fx.imp.attach(buf, Device.of("gpu"));
        fx.imp.mapAttachment(att, DmaDataDirection.BIDIRECTIONAL);
        fx.imp.vmap(buf);

        Thread.currentThread().interrupt();
        fx.core.closeClient(fx.impClient); // the importing bundle stops, leaking all of it

        assertTrue(Thread.interrupted(), "the interrupt flag is restored for the caller");
        assertEquals(List.of(), fx.log.errors);
        assertEquals(1, ops.count("release"), "the leaked references were the last: release ran once");
        assertEquals(1, ops.count("detach"));
        assertEquals(0, fx.core.buffers().all().size());
    }

    @Test
    void aLockHeldByAnotherThreadStillTimesOut() throws Exception {
        CoreFixture slow = new CoreFixture(CoreConfig.DEFAULTS.withTimeouts(100, 2000));
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = slow.export(ops, PAGE);
        dmabuf.core.buffer.Buffer b = (dmabuf.core.buffer.Buffer) slow.core.buffers().all().iterator().next();
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
        Thread holder = new Thread(() -> {
            b.lock(1000);
            held.countDown();
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                b.unlock();
            }
        });
        holder.start();
        assertTrue(held.await(5, java.util.concurrent.TimeUnit.SECONDS));
        try {
            Thread.currentThread().interrupt();
            long start = System.nanoTime();
            CoreFixture.assertErrno(Errno.ETIMEDOUT, () -> b.lockForTeardown(100));
            assertTrue(System.nanoTime() - start < java.util.concurrent.TimeUnit.SECONDS.toNanos(5),
                    "bounded: the wait never lasts forever");
            assertTrue(Thread.interrupted(), "the flag survives a timeout too");
        } finally {
            done.countDown();
            holder.join(5000);
        }
        slow.exp.put(buf);
    }
}
