package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Test;

import dmabuf.testing.NoLeaks;
import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.core.buffer.Buffer;

/**
 * fds and references: fd flags, moving a reference into an fd, per-bundle fd tables (lowest free first, the fd
 * limit), dup, close, put, release exactly once, typed errors on a released buffer, and races on the refcount.
 */
class FdAndReferenceTest {

    private static final long SIZE = 8192;

    private final CoreFixture fixture = new CoreFixture();
    /** Each test must end without a leak report, dropped buffers included (the fixture tracks every buffer). */
    @RegisterExtension
    final NoLeaks noLeaks = NoLeaks.of(() -> fixture.core.snapshots().runtimeDTO());
    private ExecutorService pool;

    @AfterEach
    void stopPool() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS), "worker threads did not stop");
        }
    }

    private static long refCount(DmaBuf b) {
        return CoreFixture.raw(b).refCount();
    }

    // ---- fd flags -------------------------------------------------------------------------------------------

    @Test
    void fdAcceptsAccessModeWithCloexec() {
        DmaBuf b = fixture.export(new TestExporter(SIZE), SIZE);
        int fd = fixture.exp.fd(b, DmaBufUapi.O_CLOEXEC | DmaBufUapi.O_RDWR);
        assertEquals(DmaBufUapi.O_CLOEXEC | DmaBufUapi.O_RDWR, fixture.exp.fdinfo(fd).flags());
    }

    @Test
    void fdAcceptsReadOnly() {
        DmaBuf b = fixture.export(new TestExporter(SIZE), SIZE);
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDONLY);
        assertEquals(DmaBufUapi.O_RDONLY, fixture.exp.fdinfo(fd).flags());
    }

    @Test
    void fdFlagsOutsideAccessModeAndCloexecAreEinvalAndChangeNothing() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        assertErrno(Errno.EINVAL, () -> fixture.exp.fd(b, 0x800));
        assertErrno(Errno.EINVAL, () -> fixture.exp.fd(b, 3));
        assertErrno(Errno.EINVAL, () -> fixture.exp.fd(b, 3 | DmaBufUapi.O_CLOEXEC));
        assertEquals(1, refCount(b));
        // the caller still holds its reference: the next valid fd uses it, and gets fd 0 (nothing was installed)
        assertEquals(0, fixture.exp.fd(b, DmaBufUapi.O_RDWR));
        assertEquals(1, fixture.exp.fdinfo(0).count());
        assertEquals(0, ops.count("release"));
    }

    @Test
    void fdWithMoreAccessThanExportedIsEacces() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.exp.export(ExportInfo.builder(ops, SIZE).flags(DmaBufUapi.O_RDONLY).build());
        assertErrno(Errno.EACCES, () -> fixture.exp.fd(b, DmaBufUapi.O_RDWR));
        assertErrno(Errno.EACCES, () -> fixture.exp.fd(b, DmaBufUapi.O_WRONLY | DmaBufUapi.O_CLOEXEC));
        assertEquals(1, refCount(b));
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDONLY);
        assertEquals(0, fd);
        assertEquals(DmaBufUapi.O_RDONLY, fixture.exp.fdinfo(fd).flags());
    }

    // ---- fd moves the reference -----------------------------------------------------------------------------

    @Test
    void fdMovesTheCallersReference() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        assertEquals(1, refCount(b));
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        assertEquals(1, fixture.exp.fdinfo(fd).count(), "the fd took over the export's reference");
        assertEquals(1, refCount(b));
        // the object reference is gone: putting it is a double put
        assertErrno(Errno.EINVAL, () -> fixture.exp.put(b));
        assertEquals(1, fixture.exp.fdinfo(fd).count());
        assertEquals(0, ops.count("release"));
        fixture.exp.close(fd);
        assertEquals(1, ops.count("release"));
        assertTrue(fixture.core.buffers().all().isEmpty());
    }

    @Test
    void fdWithoutHoldingAReferenceIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        // the importer never took a reference
        assertErrno(Errno.EINVAL, () -> fixture.imp.fd(b, DmaBufUapi.O_RDWR));
        // the exporter moved its only reference into an fd already
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        assertErrno(Errno.EINVAL, () -> fixture.exp.fd(b, DmaBufUapi.O_RDWR));
        assertEquals(1, fixture.exp.fdinfo(fd).count());
        assertEquals(List.of(0), fixture.expClient.files().openFds());
        assertEquals(0, fixture.impClient.files().openCount());
    }

    // ---- fd numbers ------------------------------------------------------------------------------------------

    @Test
    void lowestFreeFdFirstAfterCloses() {
        DmaBuf b = fixture.export(new TestExporter(SIZE), SIZE);
        int first = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        assertEquals(0, first);
        for (int expected = 1; expected <= 4; expected++) {
            assertEquals(expected, fixture.exp.dup(first));
        }
        fixture.exp.close(3);
        fixture.exp.close(1);
        assertEquals(1, fixture.exp.dup(0));
        assertEquals(3, fixture.exp.dup(0));
        assertEquals(5, fixture.exp.dup(0));
        fixture.exp.close(0);
        fixture.exp.close(2);
        fixture.exp.get(1);
        assertEquals(0, fixture.exp.fd(b, DmaBufUapi.O_RDWR));
        assertEquals(2, fixture.exp.dup(4));
        assertEquals(6, fixture.exp.dup(4));
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 6), fixture.expClient.files().openFds());
    }

    @Test
    void emfileAtTheFdLimitChangesNothing() {
        CoreFixture small = new CoreFixture(CoreConfig.DEFAULTS.withFdLimit(3));
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = small.export(ops, SIZE);
        int fd0 = small.exp.fd(b, DmaBufUapi.O_RDWR);
        assertEquals(1, small.exp.dup(fd0));
        assertEquals(2, small.exp.dup(fd0));
        assertEquals(3, refCount(b));

        // dup at the limit
        assertErrno(Errno.EMFILE, () -> small.exp.dup(fd0));
        assertEquals(3, small.exp.fdinfo(fd0).count());

        // fd at the limit: the caller keeps the reference it wanted to move
        small.exp.get(b);
        assertEquals(4, refCount(b));
        assertErrno(Errno.EMFILE, () -> small.exp.fd(b, DmaBufUapi.O_RDWR));
        assertEquals(4, small.exp.fdinfo(fd0).count());
        assertEquals(3, small.expClient.files().openCount());
        assertEquals(1, small.expClient.existingHolding(CoreFixture.raw(b)).refs(), "EMFILE must not take the reference");

        // after a close, the same reference moves into the freed fd
        small.exp.close(1);
        assertEquals(3, small.exp.fdinfo(fd0).count());
        assertEquals(1, small.exp.fd(b, DmaBufUapi.O_RDWR));
        assertEquals(3, small.exp.fdinfo(fd0).count());
        assertEquals(0, small.expClient.existingHolding(CoreFixture.raw(b)).refs());
        assertEquals(0, ops.count("release"));
    }

    @Test
    void getOfUnknownFdIsEbadf() {
        DmaBuf b = fixture.export(new TestExporter(SIZE), SIZE);
        assertErrno(Errno.EBADF, () -> fixture.exp.get(0));
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        assertErrno(Errno.EBADF, () -> fixture.exp.get(fd + 1));
        assertErrno(Errno.EBADF, () -> fixture.exp.get(-1));
        assertErrno(Errno.EBADF, () -> fixture.exp.get(1 << 20));
        assertErrno(Errno.EBADF, () -> fixture.exp.get(Integer.MAX_VALUE));
        assertEquals(1, refCount(b));
    }

    @Test
    void fdsArePerBundle() {
        DmaBuf b = fixture.export(new TestExporter(SIZE), SIZE);
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        assertErrno(Errno.EBADF, () -> fixture.imp.get(fd));
        assertErrno(Errno.EBADF, () -> fixture.imp.dup(fd));
        assertErrno(Errno.EBADF, () -> fixture.imp.close(fd));
        assertErrno(Errno.EBADF, () -> fixture.imp.fdinfo(fd));
        assertEquals(1, refCount(b));
        DmaBuf got = fixture.exp.get(fd);
        assertSame(b, got);
        assertEquals(2, fixture.exp.fdinfo(fd).count());
        fixture.exp.put(got);
    }

    @Test
    void bundleCanUseABufferPassedAsObjectAfterGet() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        DmaBuf got = fixture.imp.get(b);
        assertSame(b, got);
        assertEquals(2, refCount(b));
        int fd = fixture.imp.fd(b, DmaBufUapi.O_RDWR);
        assertEquals(0, fd);
        assertEquals(2, fixture.imp.fdinfo(fd).count());
        // the exporter's reference is its own; the importer's went into its fd
        fixture.exp.put(b);
        assertEquals(0, ops.count("release"));
        assertEquals(1, fixture.imp.fdinfo(fd).count());
        fixture.imp.close(fd);
        assertEquals(1, ops.count("release"));
    }

    // ---- dup and close --------------------------------------------------------------------------------------

    @Test
    void dupGivesLowestFdWithOwnReferenceAndNoCloexec() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        DmaBuf other = fixture.export(new TestExporter(SIZE), SIZE);
        int fd = fixture.exp.fd(b, DmaBufUapi.O_CLOEXEC | DmaBufUapi.O_RDONLY);
        int otherFd = fixture.exp.fd(other, DmaBufUapi.O_RDWR);
        assertEquals(0, fd);
        assertEquals(1, otherFd);
        assertEquals(1, fixture.exp.fdinfo(fd).count());

        int dup = fixture.exp.dup(fd);
        assertEquals(2, dup);
        assertEquals(2, fixture.exp.fdinfo(fd).count());
        assertEquals(2, fixture.exp.fdinfo(dup).count());
        assertEquals(DmaBufUapi.O_RDONLY, fixture.exp.fdinfo(dup).flags(), "dup clears close-on-exec, keeps mode");
        assertEquals(DmaBufUapi.O_CLOEXEC | DmaBufUapi.O_RDONLY, fixture.exp.fdinfo(fd).flags());
        assertEquals(b.id(), fixture.exp.fdinfo(dup).inode());

        // the dup's reference is its own: closing the original leaves the buffer alive
        fixture.exp.close(fd);
        assertEquals(1, fixture.exp.fdinfo(dup).count());
        assertEquals(0, ops.count("release"));
        fixture.exp.close(dup);
        assertEquals(1, ops.count("release"));
    }

    @Test
    void closeTwiceIsEbadf() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        int dup = fixture.exp.dup(fd);
        fixture.exp.close(fd);
        assertErrno(Errno.EBADF, () -> fixture.exp.close(fd));
        assertEquals(1, fixture.exp.fdinfo(dup).count(), "a second close must not drop another reference");
        assertEquals(0, ops.count("release"));
        fixture.exp.close(dup);
        assertErrno(Errno.EBADF, () -> fixture.exp.close(dup));
        assertEquals(1, ops.count("release"));
    }

    // ---- release exactly once -------------------------------------------------------------------------------

    @Test
    void releaseRunsExactlyOnceAfterTheLastPutOrClose() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        fixture.imp.get(b);
        fixture.imp.get(b);
        DmaBufRegistry third = fixture.bundle(30, "third.bundle");
        third.get(b);
        int fd = third.fd(b, DmaBufUapi.O_RDWR);
        int dup = third.dup(fd);
        DmaBuf viaFd = fixture.imp.get(b);
        assertEquals(6, refCount(b));

        List<Runnable> drops = List.of(
                () -> fixture.imp.put(b),
                () -> third.close(fd),
                () -> fixture.exp.put(b),
                () -> fixture.imp.put(viaFd),
                () -> fixture.imp.put(b),
                () -> third.close(dup));
        for (int i = 0; i < drops.size(); i++) {
            assertEquals(0, ops.count("release"), "released early, before drop " + i);
            assertEquals(1, fixture.core.buffers().all().size());
            drops.get(i).run();
        }
        assertEquals(1, ops.count("release"));
        assertTrue(fixture.core.buffers().all().isEmpty());
        assertEquals(1, fixture.core.buffers().releasedCount());

        // nothing else can drop it again
        assertErrno(Errno.EINVAL, () -> fixture.exp.put(b));
        assertErrno(Errno.EINVAL, () -> fixture.imp.put(b));
        assertErrno(Errno.EBADF, () -> third.close(dup));
        assertEquals(1, ops.count("release"));
    }

    @Test
    void putWithoutAReferenceIsEinvalAndChangesNothing() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        fixture.imp.get(b);
        assertEquals(2, refCount(b));
        fixture.imp.put(b);
        assertEquals(1, refCount(b));
        assertErrno(Errno.EINVAL, () -> fixture.imp.put(b));
        assertEquals(1, refCount(b), "a double put must not take the owner's reference");
        assertEquals(0, ops.count("release"));
        // a bundle that never held it
        assertErrno(Errno.EINVAL, () -> fixture.bundle(30, "third.bundle").put(b));
        assertEquals(1, refCount(b));
        assertEquals(1, fixture.core.buffers().all().size());
        // the owner's own reference is intact
        int fd = fixture.exp.fd(b, DmaBufUapi.O_RDWR);
        assertEquals(1, fixture.exp.fdinfo(fd).count());
    }

    @Test
    void everyOpOnAReleasedBufferIsEbadf() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        fixture.imp.get(b);
        fixture.imp.put(b);
        fixture.exp.put(b);
        assertEquals(1, ops.count("release"));

        for (DmaBufRegistry r : List.of(fixture.exp, fixture.imp)) {
            assertErrno(Errno.EBADF, () -> r.get(b));
            assertErrno(Errno.EBADF, () -> r.attach(b, Device.of("dev0")));
            assertErrno(Errno.EBADF, () -> r.vmap(b));
            assertErrno(Errno.EBADF, () -> r.beginCpuAccess(b, DmaDataDirection.BIDIRECTIONAL));
            assertErrno(Errno.EBADF, () -> r.beginCpuAccess(b, DmaDataDirection.TO_DEVICE, 0, 4096));
            assertErrno(Errno.EBADF, () -> r.fd(b, DmaBufUapi.O_RDWR));
        }
        assertEquals(1, ops.count("release"));
        assertEquals(0, ops.count("attach"));
        assertEquals(0, ops.count("vmap"));
        assertEquals(0, ops.count("begin"));
        assertEquals(0, fixture.expClient.files().openCount());
        assertEquals(0, fixture.impClient.files().openCount());
        assertTrue(fixture.expClient.attachments().isEmpty() && fixture.impClient.attachments().isEmpty());
        assertTrue(fixture.core.buffers().all().isEmpty());
    }

    // ---- races ----------------------------------------------------------------------------------------------

    @Test
    void concurrentGetPutFromManyBundlesReleasesOnceAtTheEnd() throws Exception {
        final int threads = 4;
        final int iterations = 10_000;
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf b = fixture.export(ops, SIZE);
        List<DmaBufRegistry> bundles = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            bundles.add(fixture.bundle(100 + i, "racer." + i));
        }
        CyclicBarrier start = new CyclicBarrier(threads);
        pool = Executors.newFixedThreadPool(threads);
        List<Future<Integer>> results = new ArrayList<>();
        for (DmaBufRegistry r : bundles) {
            results.add(pool.submit(() -> {
                start.await(30, TimeUnit.SECONDS);
                int earlyReleases = 0;
                for (int i = 0; i < iterations; i++) {
                    r.get(b);
                    r.put(b);
                    if (ops.count("release") != 0) {
                        earlyReleases++;
                    }
                }
                return earlyReleases;
            }));
        }
        for (Future<Integer> f : results) {
            assertEquals(0, f.get(30, TimeUnit.SECONDS), "release ran while the owner still held a reference");
        }
        assertEquals(0, ops.count("release"));
        assertEquals(1, refCount(b));
        fixture.exp.put(b);
        assertEquals(1, ops.count("release"));
        assertTrue(fixture.core.buffers().all().isEmpty());
    }

    @Test
    void concurrentClosesOfDupedFdsReleaseOnce() throws Exception {
        final int threads = 16;
        final int rounds = 50;
        pool = Executors.newFixedThreadPool(threads);
        List<DmaBufRegistry> bundles = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            bundles.add(fixture.bundle(200 + i, "closer." + i));
        }
        for (int round = 0; round < rounds; round++) {
            TestExporter ops = new TestExporter(SIZE);
            DmaBuf b = fixture.export(ops, SIZE);
            int[][] fds = new int[threads][];
            for (int i = 0; i < threads; i++) {
                DmaBufRegistry r = bundles.get(i);
                r.get(b);
                int fd = r.fd(b, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC);
                fds[i] = new int[] {fd, r.dup(fd)};
            }
            fixture.exp.put(b);
            assertEquals(2L * threads, refCount(b));
            assertEquals(0, ops.count("release"));

            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                DmaBufRegistry r = bundles.get(i);
                int[] mine = fds[i];
                results.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    r.close(mine[1]);
                    r.close(mine[0]);
                    return null;
                }));
            }
            for (Future<?> f : results) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(1, ops.count("release"), "round " + round);
            assertTrue(fixture.core.buffers().all().isEmpty(), "round " + round);
        }
        assertEquals(0, fixture.core.clients().stream().filter(c -> c.symbolicName().startsWith("closer."))
                .mapToInt(c -> c.files().openCount()).sum(), "every fd was closed");
        assertTrue(fixture.log.errors.isEmpty(), () -> "errors logged: " + fixture.log.errors);
        assertEquals(rounds, fixture.core.buffers().releasedCount());
    }
}
