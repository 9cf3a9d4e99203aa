package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.drivers.DriverTracker;

/**
 * Misbehaving drivers the other suites leave out (issue 8): an exporter service unregistered while one of its ops
 * runs, and importers whose move notification throws or re-enters the core. The core stays consistent, every wait
 * is bounded, release runs once, and the offender is named by bundle.
 */
class DriverDepartureTest {
    private static final long SIZE = 2L * 4096;
    private static final long WAIT_SECONDS = 20;

    /** A test exporter whose map can be held inside the call. */
    static final class HeldMap extends TestExporter {
        final List<String> events = new CopyOnWriteArrayList<>();
        final CountDownLatch inside = new CountDownLatch(1);
        final CountDownLatch proceed = new CountDownLatch(1);

        HeldMap() {
            super(SIZE);
        }

        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            events.add("map entered");
            inside.countDown();
            await(proceed);
            events.add("map returns");
            return super.map(attachment, direction);
        }

        @Override
        public void release(DmaBuf dmaBuf) {
            events.add("release");
            super.release(dmaBuf);
        }
    }

    /** Threads of their own: the common pool may have one worker, which a blocked call would keep. */
    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        assertTrue(threads.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS), "test threads did not stop");
    }

    static String dump() {
        StringBuilder sb = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, st) -> {
            sb.append("\n").append(t.getName()).append(' ').append(t.getState());
            for (StackTraceElement e : st) {
                sb.append("\n  ").append(e);
            }
        });
        return sb.toString();
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not reached within " + WAIT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Test
    void anExporterUnregisteredWhileItsMapRunsIsRevokedAfterTheCallAndReleasedOnce() throws Exception {
        CoreFixture fx = new CoreFixture(CoreConfig.DEFAULTS.withTimeouts(2000, 20_000));
        fx.registerExporter(101, "cam0");
        HeldMap ops = new HeldMap();
        DmaBuf buf = fx.exp.export(ExportInfo.builder(ops, SIZE).exporter("cam0").build());
        fx.imp.get(buf);
        DmaBufAttachment att = fx.imp.attach(buf, Device.of("isp"));

        CompletableFuture<SgTable> map = CompletableFuture.supplyAsync(
                () -> fx.imp.mapAttachment(att, DmaDataDirection.FROM_DEVICE), threads);
        await(ops.inside);
        CompletableFuture<Void> unregister = CompletableFuture.runAsync(
                () -> fx.core.drivers().remove(DriverTracker.Kind.EXPORTER, 101), threads);
        try {
            // new calls are refused at once; the unregistration waits for the map in flight
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (CoreFixture.raw(buf).state() != Buffer.State.REVOKED) {
                assertTrue(System.nanoTime() < deadline, () -> "the buffer was not revoked; unregister " + unregister + " log " + fx.log.warnings + fx.log.errors + fx.log.infos + dump());
                Thread.onSpinWait();
            }
            assertErrno(Errno.ENODEV, () -> fx.imp.get(buf)); // refused without waiting for the lock
            assertFalse(unregister.isDone(), () -> "the revoke waits for the exporter's call in flight; " + unregister
                    + " log " + fx.log.warnings + fx.log.errors + fx.log.infos + " events " + ops.events);
            assertEquals(0, ops.count("release"));
        } finally {
            ops.proceed.countDown();
        }
        unregister.get(WAIT_SECONDS, TimeUnit.SECONDS);
        map.handle((t, e) -> null).get(WAIT_SECONDS, TimeUnit.SECONDS); // admitted before: completes or ENODEV

        assertEquals(List.of("map entered", "map returns", "release"), ops.events, "release only after the call");
        assertEquals(1, ops.count("release"));
        assertErrno(Errno.ENODEV, () -> fx.imp.mapAttachment(att, DmaDataDirection.FROM_DEVICE));
        fx.imp.detach(att); // cleanup on a revoked buffer works and never reaches the exporter again
        fx.imp.put(buf);
        fx.exp.put(buf);
        assertEquals(0, fx.core.buffers().all().size(), "nothing left allocated");
        assertEquals(1, ops.count("release"), "release exactly once");
        assertTrue(fx.log.infos.stream().anyMatch(i -> i.contains("revoking") && i.contains("cam0")),
                fx.log.infos::toString);
        // the map held the buffer's lock past the lock timeout: the importers could not be told first, and the
        // revoke went on instead of leaving a buffer of a departed exporter live
        assertEquals(1, fx.log.warningsContaining("revoking anyway").size(), fx.log.warnings::toString);
    }

    @Test
    void anImporterWhoseMoveNotificationThrowsIsNamedAndTheRevokeCompletes() throws Exception {
        CoreFixture fx = new CoreFixture();
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = fx.exportShared(ops, SIZE);
        DmaBufAttachment att = fx.imp.dynamicAttach(buf, Device.of("gpu"), new DmaBufImporterOps() {
            @Override
            public void invalidateMappings(DmaBufAttachment attachment) {
                throw new IllegalStateException("importer bug");
            }
        });
        CompletableFuture.runAsync(() -> fx.exp.revoke(buf), threads).get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(Buffer.State.REVOKED, CoreFixture.raw(buf).state());
        assertEquals(1, ops.count("release"));
        assertTrue(fx.log.errors.stream().anyMatch(e -> e.contains("importer bundle importer.bundle [20]")
                && e.contains("invalidateMappings") && e.contains("importer bug")), fx.log.errors::toString);
        fx.imp.detach(att);
        fx.imp.put(buf);
        fx.exp.put(buf);
        assertEquals(0, fx.core.buffers().all().size());
    }

    @Test
    void anImporterDetachingFromItsMoveNotificationDoesNotDeadlock() throws Exception {
        CoreFixture fx = new CoreFixture();
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = fx.exportShared(ops, SIZE);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        fx.imp.dynamicAttach(buf, Device.of("gpu"), new DmaBufImporterOps() {
            @Override
            public void invalidateMappings(DmaBufAttachment attachment) {
                try {
                    fx.imp.detach(attachment); // re-enters the core from the callback
                    fx.imp.put(attachment.dmaBuf());
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
        });
        CompletableFuture.runAsync(() -> fx.exp.revoke(buf), threads).get(WAIT_SECONDS, TimeUnit.SECONDS);
        assertEquals(List.of(), failures);
        assertEquals(1, ops.count("detach"), "the importer's own detach reached the exporter once");
        assertEquals(1, ops.count("release"));
        fx.exp.put(buf);
        assertEquals(0, fx.core.buffers().all().size());
    }
}
