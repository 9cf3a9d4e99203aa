package dmabuf.core.sync;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.FenceDTO;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreFixture;
import dmabuf.core.TestExporter;
import dmabuf.core.client.Client;

/** Implicit sync in the core's own operations, bounded waits, and fences of bundles that stop. */
class ImplicitSyncTest {
    private final CoreFixture fx = new CoreFixture(CoreConfig.DEFAULTS.withFenceTimeout(150));
    private final TestExporter ops = new TestExporter(8192);
    private final DmaBuf buf = fx.exportShared(ops, 8192);
    private final FenceContext gpu = fx.exp.fenceContext("gpu", "gfx");

    private DmaFence publish(DmaResvUsage usage) {
        DmaFence f = gpu.createFence();
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(buf.resv());
            buf.resv().reserveFences(1);
            buf.resv().addFence(f, usage);
        }
        return f;
    }

    /** Runs the call on another thread and returns its future, once it has started. */
    private static CompletableFuture<Void> started(Runnable call) throws InterruptedException {
        CountDownLatch running = new CountDownLatch(1);
        CompletableFuture<Void> f = CompletableFuture.runAsync(() -> {
            running.countDown();
            call.run();
        }, r -> Thread.ofPlatform().start(r));
        assertTrue(running.await(5, TimeUnit.SECONDS));
        return f;
    }

    @Test
    void aCpuReaderWaitsForWritersOnly() throws Exception {
        DmaFence read = publish(DmaResvUsage.READ);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE); // a pending reader does not block a reader
        fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        read.signal();
        DmaFence write = publish(DmaResvUsage.WRITE);
        CompletableFuture<Void> reader = started(() -> {
            fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        });
        assertFalse(reader.isDone());
        write.signal();
        reader.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aCpuWriterWaitsForReadersToo() throws Exception {
        DmaFence read = publish(DmaResvUsage.READ);
        CompletableFuture<Void> writer = started(() -> {
            fx.imp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
            fx.imp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        });
        assertFalse(writer.isDone());
        read.signal();
        writer.get(5, TimeUnit.SECONDS);
        publish(DmaResvUsage.BOOKKEEP); // nobody waits for bookkeeping
        fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        fx.imp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
    }

    @Test
    void aTimedOutBeginLogsTheFencesFailsAndChangesNothing() {
        DmaFence write = publish(DmaResvUsage.WRITE);
        DmaBufException e = assertErrno(Errno.ETIMEDOUT,
                () -> fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        assertTrue(e.getMessage().contains("gpu/gfx"), e::getMessage);
        assertEquals(1, fx.log.warningsContaining("still unsignalled: [fence gpu/gfx").size(),
                fx.log.warnings::toString);
        assertEquals(ops.count("beginCpuAccess"), ops.count("endCpuAccess"), "the exporter's begin was undone");
        // no bracket was opened
        assertErrno(Errno.EINVAL, () -> fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        write.signal();
        fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
    }

    @Test
    void aZeroFenceTimeoutNeverWaitsAndSaysBusy() {
        fx.core.configure(CoreConfig.DEFAULTS.withFenceTimeout(0));
        publish(DmaResvUsage.READ);
        assertErrno(Errno.EBUSY, () -> fx.imp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE));
        fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
    }

    @Test
    void syncIoctlWaitsToo() throws Exception {
        int fd = fx.imp.fd(fx.imp.get(buf), dmabuf.api.DmaBufUapi.O_RDWR);
        publish(DmaResvUsage.WRITE);
        assertErrno(Errno.ETIMEDOUT, () -> fx.imp.sync(fd, dmabuf.api.DmaBufUapi.DMA_BUF_SYNC_READ));
    }

    @Test
    void aStaticImportersMapWaitsForKernelFencesOnly() throws Exception {
        DmaBufAttachment att = fx.imp.attach(buf, Device.of("display"));
        publish(DmaResvUsage.WRITE);
        SgTable t = fx.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE); // WRITE does not block a map
        fx.imp.unmapAttachment(att, t, DmaDataDirection.TO_DEVICE);
        DmaFence move = publish(DmaResvUsage.KERNEL);
        CompletableFuture<Void> mapper = started(() -> {
            SgTable t2 = fx.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE);
            fx.imp.unmapAttachment(att, t2, DmaDataDirection.TO_DEVICE);
        });
        move.signal();
        mapper.get(5, TimeUnit.SECONDS);
        fx.imp.detach(att);
    }

    @Test
    void aTimedOutMapIsUnmappedAgain() {
        DmaBufAttachment att = fx.imp.attach(buf, Device.of("display"));
        publish(DmaResvUsage.KERNEL);
        assertErrno(Errno.ETIMEDOUT, () -> fx.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE));
        assertEquals(1, ops.count("map"));
        assertEquals(1, ops.count("unmap"));
        fx.imp.detach(att);
    }

    @Test
    void aDynamicImporterDoesNotWaitInMap() {
        DmaBufAttachment att = fx.imp.dynamicAttach(buf, Device.of("gpu"), a -> {
        });
        publish(DmaResvUsage.KERNEL);
        SgTable t = fx.imp.mapAttachment(att, DmaDataDirection.BIDIRECTIONAL);
        fx.imp.unmapAttachment(att, t, DmaDataDirection.BIDIRECTIONAL);
        fx.imp.detach(att);
    }

    @Test
    void aStoppingBundlesFencesSignalWithEnodevAndWakeWaiters() throws Exception {
        Client driver = fx.core.openClient(30, "gpu.driver");
        FenceContext ctx = fx.core.registryFor(driver).fenceContext("gpu", "compute");
        DmaFence f = ctx.createFence();
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(buf.resv());
            buf.resv().reserveFences(1);
            buf.resv().addFence(f, DmaResvUsage.WRITE);
        }
        DmaFence done = ctx.createFence();
        done.signal();
        CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(
                () -> f.await(10, TimeUnit.SECONDS), r -> Thread.ofPlatform().start(r));
        fx.core.closeClient(driver);
        assertTrue(waiter.get(5, TimeUnit.SECONDS));
        assertEquals(Optional.of(Errno.ENODEV), f.error());
        assertEquals(Optional.empty(), done.error(), "a fence signalled before the stop keeps its result");
        assertErrno(Errno.ENODEV, ctx::createFence);
        assertEquals(1, fx.log.warningsContaining("signalled them with ENODEV").size(), fx.log.warnings::toString);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE); // nobody hangs on the dead driver
        fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
    }

    @Test
    void aStoppingBundlesOpenAcquireContextsAreClosedSoTheirLocksDoNotBlockOthers() {
        Client driver = fx.core.openClient(31, "sloppy.driver");
        AcquireContext left = fx.core.registryFor(driver).acquireContext();
        left.lock(buf.resv());
        fx.core.closeClient(driver);
        assertFalse(buf.resv().isLocked());
        assertEquals(1, fx.log.warningsContaining("acquire context(s) open").size(), fx.log.warnings::toString);
        try (AcquireContext mine = fx.imp.acquireContext()) {
            mine.lock(buf.resv());
        }
        assertErrno(Errno.ENODEV, () -> fx.core.registryFor(driver).acquireContext());
    }

    @Test
    void theRuntimeDtoAndBufinfoListABuffersFences() {
        DmaFence f = publish(DmaResvUsage.WRITE);
        f.setError(Errno.EIO);
        f.signal();
        publish(DmaResvUsage.READ);
        BufferDTO dto = Arrays.stream(fx.core.snapshots().runtimeDTO().buffers).filter(b -> b.id == buf.id())
                .findFirst().orElseThrow();
        assertEquals(1, dto.fences.length, "the signalled WRITE fence was replaced by the later READ one");
        FenceDTO fence = dto.fences[0];
        assertEquals("gpu", fence.driverName);
        assertEquals("gfx", fence.timelineName);
        assertEquals("READ", fence.usage);
        assertFalse(fence.signaled);
        assertEquals(null, fence.error);
        String info = fx.exp.bufinfo();
        assertTrue(info.contains("\tread fence: gpu gfx seq 2 unsignalled\n"), info);
    }

    @Test
    void insideASignallingSectionTheCoresImplicitWaitsAreSkipped() throws Exception {
        DmaFence job = gpu.createFence();
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(buf.resv());
            buf.resv().reserveFences(1);
            buf.resv().addFence(job, DmaResvUsage.WRITE);
        }
        DmaFence reader = fx.imp.fenceContext("display", "crtc").createFence();
        try (AcquireContext ac = fx.imp.acquireContext()) {
            ac.lock(buf.resv());
            buf.resv().reserveFences(1);
            buf.resv().addFence(reader, DmaResvUsage.READ); // a later job that depends on this one
        }
        try (DmaFence.SignallingSection s = job.beginSignalling()) {
            fx.imp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE); // the job's own work: no self-wait
            fx.imp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        }
        job.signal();
        assertErrno(Errno.ETIMEDOUT, () -> fx.imp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE));
        reader.signal();
        CompletableFuture<Void> other = CompletableFuture.runAsync(() -> {
            try (DmaFence.SignallingSection s = job.beginSignalling()) {
                assertTrue(s != null);
            }
        }, r -> Thread.ofPlatform().start(r));
        other.get(5, TimeUnit.SECONDS);
    }

    @Test
    void theConfigurationShowsTheFenceTimeout() {
        assertEquals(150L, fx.core.config().asProperties().get("fence.timeout.ms"));
        assertEquals(5000L, CoreConfig.DEFAULTS.fenceTimeoutMillis());
    }
}
