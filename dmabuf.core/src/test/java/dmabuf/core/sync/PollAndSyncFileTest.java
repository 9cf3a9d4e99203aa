package dmabuf.core.sync;

import static dmabuf.api.DmaBufUapi.DMA_BUF_SYNC_READ;
import static dmabuf.api.DmaBufUapi.DMA_BUF_SYNC_RW;
import static dmabuf.api.DmaBufUapi.DMA_BUF_SYNC_WRITE;
import static dmabuf.api.DmaBufUapi.POLLERR;
import static dmabuf.api.DmaBufUapi.POLLIN;
import static dmabuf.api.DmaBufUapi.POLLOUT;
import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResv;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreFixture;
import dmabuf.core.TestExporter;

/** poll on a dma-buf fd and sync files, after the kernel's poll rules and IGT's sync_file tests. */
class PollAndSyncFileTest {
    private final CoreFixture fx = new CoreFixture(CoreConfig.DEFAULTS.withFdLimit(8));
    private final TestExporter ops = new TestExporter(4096);
    private final DmaBuf buf = fx.export(ops, 4096);
    private final int fd = fx.exp.fd(buf, DmaBufUapi.O_RDWR);
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

    private int pollNow(int events) {
        return fx.exp.poll(fd, events, 0, TimeUnit.MILLISECONDS);
    }

    // ---- poll -----------------------------------------------------------------------------------------------------

    @Test
    void pollReadinessFollowsTheFences() {
        assertEquals(POLLIN | POLLOUT, pollNow(POLLIN | POLLOUT));
        DmaFence read = publish(DmaResvUsage.READ);
        assertEquals(POLLIN, pollNow(POLLIN | POLLOUT), "a pending reader leaves the buffer readable");
        FenceContext other = fx.imp.fenceContext("v4l2", "cap");
        DmaFence write = other.createFence();
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(buf.resv());
            buf.resv().reserveFences(1);
            buf.resv().addFence(write, DmaResvUsage.WRITE);
        }
        assertEquals(0, pollNow(POLLIN | POLLOUT));
        write.signal();
        assertEquals(POLLIN, pollNow(POLLIN | POLLOUT));
        read.signal();
        publish(DmaResvUsage.BOOKKEEP);
        assertEquals(POLLIN | POLLOUT, pollNow(POLLIN | POLLOUT), "bookkeeping fences never block");
        assertEquals(POLLOUT, pollNow(POLLOUT), "only requested events are reported");
        assertEquals(0, pollNow(0));
    }

    @Test
    void pollRefusesANegativeTimeoutAndABadFd() {
        assertErrno(Errno.EINVAL, () -> fx.exp.poll(fd, POLLIN, -1, TimeUnit.MILLISECONDS));
        assertErrno(Errno.EBADF, () -> fx.exp.poll(99, POLLIN, 0, TimeUnit.MILLISECONDS));
        assertErrno(Errno.EBADF, () -> fx.imp.poll(fd, POLLIN, 0, TimeUnit.MILLISECONDS));
    }

    @Test
    void aBlockingPollTimesOutOrWakesOnTheSignal() throws Exception {
        DmaFence write = publish(DmaResvUsage.WRITE);
        assertEquals(0, fx.exp.poll(fd, POLLIN, 20, TimeUnit.MILLISECONDS));
        CompletableFuture<Integer> poller = CompletableFuture.supplyAsync(
                () -> fx.exp.poll(fd, POLLIN, 10, TimeUnit.SECONDS), r -> Thread.ofPlatform().start(r));
        write.signal();
        assertEquals(POLLIN, poller.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aRevokedBufferPollsWithAnError() {
        fx.exp.revoke(buf);
        assertEquals(POLLIN | POLLERR, pollNow(POLLIN));
    }

    @Test
    void anAsyncPollKeepsTheBufferAliveUntilItFires() throws Exception {
        DmaFence write = publish(DmaResvUsage.WRITE);
        CompletableFuture<Integer> polled = fx.exp.pollAsync(fd, POLLIN).toCompletableFuture();
        fx.exp.close(fd); // the last reference the bundle had
        assertEquals(0, ops.count("release"), "the armed poll holds the buffer");
        assertFalse(polled.isDone());
        write.signal();
        assertEquals(POLLIN, polled.get(5, TimeUnit.SECONDS));
        assertEquals(1, ops.count("release"), "released once the poll fired");
    }

    @Test
    void anAsyncPollOfAReadyBufferCompletesAtOnceAndNeedsEvents() throws Exception {
        assertEquals(POLLIN | POLLOUT, fx.exp.pollAsync(fd, POLLIN | POLLOUT).toCompletableFuture().get(1,
                TimeUnit.SECONDS));
        assertErrno(Errno.EINVAL, () -> fx.exp.pollAsync(fd, 0));
    }

    // ---- sync files ---------------------------------------------------------------------------------------------

    @Test
    void exportRefusesEmptyOrUnknownFlags() {
        assertErrno(Errno.EINVAL, () -> fx.exp.exportSyncFile(fd, 0));
        assertErrno(Errno.EINVAL, () -> fx.exp.exportSyncFile(fd, 4));
        assertErrno(Errno.EINVAL, () -> fx.exp.exportSyncFile(fd, DMA_BUF_SYNC_READ | 0x100));
        assertErrno(Errno.EBADF, () -> fx.exp.exportSyncFile(42, DMA_BUF_SYNC_READ));
    }

    @Test
    void exportWithNothingToWaitForIsAnAlreadySignalledFence() {
        int sync = fx.exp.exportSyncFile(fd, DMA_BUF_SYNC_RW);
        assertTrue(fx.exp.syncFileFence(sync).isSignaled());
        fx.exp.close(sync);
        assertErrno(Errno.EBADF, () -> fx.exp.syncFileFence(sync));
    }

    @Test
    void aReaderWaitsForWritersAWriterForEveryone() {
        DmaFence write = publish(DmaResvUsage.WRITE);
        FenceContext display = fx.imp.fenceContext("display", "crtc");
        DmaFence read = display.createFence();
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(buf.resv());
            buf.resv().reserveFences(1);
            buf.resv().addFence(read, DmaResvUsage.READ);
        }
        DmaFence forReader = fx.exp.syncFileFence(fx.exp.exportSyncFile(fd, DMA_BUF_SYNC_READ));
        DmaFence forWriter = fx.exp.syncFileFence(fx.exp.exportSyncFile(fd, DMA_BUF_SYNC_WRITE));
        assertSame(write, forReader, "one fence is exported as itself");
        assertFalse(forWriter.isSignaled());
        write.signal();
        assertFalse(forWriter.isSignaled(), "the writer's snapshot waits for the reader too");
        read.setError(Errno.EIO);
        read.signal();
        assertTrue(forWriter.isSignaled());
        assertEquals(Optional.of(Errno.EIO), forWriter.error(), "the snapshot reports its fences' error");
        assertErrno(Errno.EPERM, forWriter::signal);
    }

    @Test
    void fencesAddedAfterTheExportAreNotInTheSnapshot() {
        DmaFence first = publish(DmaResvUsage.WRITE);
        DmaFence snapshot = fx.exp.syncFileFence(fx.exp.exportSyncFile(fd, DMA_BUF_SYNC_WRITE));
        FenceContext later = fx.imp.fenceContext("display", "crtc");
        DmaFence second = later.createFence();
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(buf.resv());
            buf.resv().reserveFences(1);
            buf.resv().addFence(second, DmaResvUsage.WRITE);
        }
        first.signal();
        assertTrue(snapshot.isSignaled());
        assertFalse(second.isSignaled());
    }

    @Test
    void importAddsTheFenceAsWriteOrRead() {
        FenceContext camera = fx.imp.fenceContext("v4l2", "cap");
        DmaFence capture = camera.createFence();
        int sync = fx.exp.syncFileFd(capture);
        fx.exp.importSyncFile(fd, sync, DMA_BUF_SYNC_WRITE);
        assertEquals(List.of(new DmaResv.Entry(capture, DmaResvUsage.WRITE)),
                buf.resv().fences(DmaResvUsage.BOOKKEEP));
        DmaFence scan = fx.imp.fenceContext("display", "crtc").createFence();
        fx.exp.importSyncFile(fd, fx.exp.syncFileFd(scan), DMA_BUF_SYNC_READ);
        assertEquals(List.of(new DmaResv.Entry(capture, DmaResvUsage.WRITE),
                new DmaResv.Entry(scan, DmaResvUsage.READ)), buf.resv().fences(DmaResvUsage.BOOKKEEP));
        assertEquals(0, pollNow(POLLIN | POLLOUT));
    }

    @Test
    void importRefusesWhatIsNotASyncFileAndBadFlags() {
        int sync = fx.exp.syncFileFd(gpu.createFence());
        assertErrno(Errno.EINVAL, () -> fx.exp.importSyncFile(fd, fd, DMA_BUF_SYNC_READ));
        assertErrno(Errno.EINVAL, () -> fx.exp.importSyncFile(fd, sync, 0));
        assertErrno(Errno.EINVAL, () -> fx.exp.importSyncFile(fd, sync, 8));
        assertErrno(Errno.EBADF, () -> fx.exp.importSyncFile(fd, 7, DMA_BUF_SYNC_READ));
        assertErrno(Errno.EINVAL, () -> fx.exp.syncFileFence(fd));
        assertErrno(Errno.EINVAL, () -> fx.exp.get(sync));
        assertErrno(Errno.EINVAL, () -> fx.exp.exportSyncFile(sync, DMA_BUF_SYNC_READ));
        assertErrno(Errno.EINVAL, () -> fx.exp.poll(sync, POLLIN, 0, TimeUnit.SECONDS));
    }

    @Test
    void theIoctlsDoTheSame() {
        DmaFence write = publish(DmaResvUsage.WRITE);
        long[] export = {DMA_BUF_SYNC_READ, -1};
        assertEquals(0, fx.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, export));
        assertSame(write, fx.exp.syncFileFence((int) export[1]));
        DmaFence other = fx.imp.fenceContext("display", "crtc").createFence();
        long[] imp = {DMA_BUF_SYNC_READ, fx.exp.syncFileFd(other)};
        assertEquals(0, fx.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, imp));
        assertEquals(2, buf.resv().fences(DmaResvUsage.READ).size());
        assertErrno(Errno.EFAULT, () -> fx.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, 1L));
        assertErrno(Errno.EINVAL, () -> fx.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE,
                new long[] {0, -1}));
    }

    @Test
    void syncFilesCountAgainstTheFdLimitAndAreNotReclaimedAsBuffers() {
        for (int i = 1; i < 8; i++) {
            fx.exp.syncFileFd(fx.exp.stubFence());
        }
        assertErrno(Errno.EMFILE, () -> fx.exp.exportSyncFile(fd, DMA_BUF_SYNC_READ));
        fx.core.closeClient(fx.expClient);
        assertEquals(1, fx.log.warningsContaining("fd " + fd).size(), fx.log.warnings::toString);
    }

    @Test
    void aSyncFileFenceCanBeSharedWithAnotherBundle() throws Exception {
        DmaFence write = publish(DmaResvUsage.WRITE);
        DmaFence exported = fx.exp.syncFileFence(fx.exp.exportSyncFile(fd, DMA_BUF_SYNC_READ));
        int theirs = fx.imp.syncFileFd(exported);
        CompletableFuture<DmaFence> done = fx.imp.syncFileFence(theirs).whenSignaled().toCompletableFuture();
        write.signal();
        assertSame(write, done.get(5, TimeUnit.SECONDS));
    }
}
