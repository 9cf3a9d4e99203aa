package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.api.runtime.AttachmentDTO;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Holding;

/**
 * Exporters that break their contract (throw from an op, return nothing or the wrong size, block, call back into
 * the core) and importers that misuse the API: the caller gets a typed error, the core reports driver bugs against
 * the exporter's bundle, its own state stays consistent, and cleanup still completes.
 * <p>
 * Buffers here belong to a named exporter service ("faulty-cam" of bundle "exporter.bundle"), so a message that
 * names the exporter's bundle is told apart from one that only repeats the exporter's name.
 */
class MisbehavingDriverTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;
    private static final long SIZE = 2L * PAGE;
    private static final String EXPORTER = "faulty-cam";
    private static final long WAIT_SECONDS = 30;

    /** A way for driver code to break: not a refusal, so the core must call it a driver bug (EIO). */
    record Bug(String kind, Supplier<Throwable> make) {
        @Override
        public String toString() {
            return kind;
        }
    }

    static Stream<Bug> bugs() {
        return Stream.of(new Bug("RuntimeException", () -> new IllegalStateException("driver state corrupted")),
                new Bug("NoClassDefFoundError", () -> new NoClassDefFoundError("com/acme/cam/internal/Gone")));
    }

    private CoreFixture fx;
    private ExecutorService pool;

    @BeforeEach
    void setUp() {
        use(new CoreFixture());
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(WAIT_SECONDS, TimeUnit.SECONDS));
        }
    }

    private void use(CoreFixture fixture) {
        fx = fixture;
        fx.registerExporter(1, EXPORTER);
    }

    /** Exported by "exporter.bundle" as "faulty-cam"; the importing bundle holds a reference too. */
    private DmaBuf export(Faulty ops) {
        DmaBuf b = fx.exp.export(ExportInfo.builder(ops, SIZE).exporter(EXPORTER).build());
        fx.imp.get(b);
        return b;
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /** The call fails with EIO caused by the driver's throwable. */
    private static DmaBufException assertEio(Throwable bug, Executable call) {
        DmaBufException e = assertErrno(Errno.EIO, call);
        assertSame(bug, e.getCause(), "the driver's throwable is the cause");
        return e;
    }

    /** An error was logged for the bug, naming the exporter's bundle, the exporter and the op. */
    private void assertReported(String op, Throwable bug) {
        List<String> hits = fx.log.errors.stream().filter(m -> m.contains(bug.toString())).toList();
        assertFalse(hits.isEmpty(), () -> "no error logged for " + bug + "; errors: " + fx.log.errors);
        for (String m : hits) {
            assertTrue(m.contains(fx.expClient.describe()), () -> "the report must name the exporter's bundle ("
                    + fx.expClient.describe() + "): " + m);
            assertTrue(m.contains(EXPORTER), () -> "the report must name the exporter: " + m);
            assertTrue(m.contains(op), () -> "the report must name the op " + op + ": " + m);
        }
    }

    private RuntimeDTO dto() {
        return fx.core.snapshots().runtimeDTO();
    }

    private AttachmentDTO attachmentDto(String device) {
        return Arrays.stream(dto().attachments).filter(a -> a.device.equals(device)).findFirst().orElse(null);
    }

    private BufferDTO bufferDto(DmaBuf buf) {
        return Arrays.stream(dto().buffers).filter(b -> b.id == buf.id()).findFirst().orElse(null);
    }

    private ClientDTO clientDto(long bundleId) {
        return Arrays.stream(dto().clients).filter(c -> c.bundleId == bundleId).findFirst().orElseThrow();
    }

    private Holding impHolding(DmaBuf buf) {
        return fx.impClient.existingHolding(CoreFixture.raw(buf));
    }

    private <T> T onOtherThread(Callable<T> call) throws Exception {
        if (pool == null) {
            pool = Executors.newCachedThreadPool();
        }
        return pool.submit(call).get(WAIT_SECONDS, TimeUnit.SECONDS);
    }

    private <T> Future<T> start(String threadName, Callable<T> call) {
        if (pool == null) {
            pool = Executors.newCachedThreadPool();
        }
        return pool.submit(() -> {
            String old = Thread.currentThread().getName();
            Thread.currentThread().setName(threadName);
            try {
                return call.call();
            } finally {
                Thread.currentThread().setName(old);
            }
        });
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS), "latch not reached in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Spins (no sleep) until the condition holds, at most {@link #WAIT_SECONDS}. */
    private static void spinUntil(String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.onSpinWait();
        }
    }

    // ---- each op throwing a driver bug ------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void mapThrowingIsEioAndLeavesNothingMapped(Bug kind) throws Exception {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        Throwable bug = kind.make().get();
        ops.fail("map", bug);

        assertEio(bug, () -> fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertReported("map", bug);
        assertEquals(0, attachmentDto("isp").mappedTables);
        assertEquals(0, ops.count("unmap"));
        ops.heal();
        // the lock was released and no "inside a locked op" mark stayed behind, on another thread or this one
        SgTable other = onOtherThread(() -> fx.imp.mapAttachment(a, DmaDataDirection.FROM_DEVICE));
        SgTable mine = fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        assertNotNull(other);
        assertNotNull(mine);
        assertEquals(2, attachmentDto("isp").mappedTables);
        fx.imp.detach(a);
        assertEquals(2, ops.count("unmap"), "only the two tables that were mapped are unmapped");
        assertEquals(1, ops.count("detach"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void unmapThrowingIsEioAndTheTableStaysMappedUntilItWorks(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        SgTable t = fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        Throwable bug = kind.make().get();
        ops.fail("unmap", bug);

        assertEio(bug, () -> fx.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE));

        assertReported("unmap", bug);
        // a failed call changes nothing: the table is still mapped, and unmapping it again works once fixed
        assertEquals(1, attachmentDto("isp").mappedTables);
        ops.heal();
        fx.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE);
        assertEquals(0, attachmentDto("isp").mappedTables);
        assertEquals(2, ops.count("unmap"));
        fx.imp.detach(a);
        assertEquals(2, ops.count("unmap"), "detach has nothing left to unmap");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void unmapThrowingDuringDetachStillDetaches(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        fx.imp.mapAttachment(a, DmaDataDirection.FROM_DEVICE);
        Throwable bug = kind.make().get();
        ops.fail("unmap", bug);

        assertDoesNotThrow(() -> fx.imp.detach(a));

        assertFalse(a.isAttached());
        assertEquals(2, ops.count("unmap"), "both tables were unmapped, the first failure did not stop the second");
        assertEquals(1, ops.count("detach"), "the exporter still heard of the detach");
        assertEquals(0, dto().attachments.length);
        assertTrue(fx.impClient.attachments().isEmpty());
        assertReported("unmap", bug);
        assertErrno(Errno.EINVAL, () -> fx.imp.detach(a));
        fx.imp.put(buf);
        fx.exp.put(buf);
        assertEquals(1, ops.count("release"));
        assertTrue(fx.core.buffers().all().isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void attachThrowingIsEioAndLinksNothing(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        Throwable bug = kind.make().get();
        ops.fail("attach", bug);

        assertEio(bug, () -> fx.imp.attach(buf, Device.of("isp")));

        assertReported("attach", bug);
        assertEquals(0, dto().attachments.length);
        assertEquals(0, bufferDto(buf).attachedDevices.length);
        assertTrue(fx.impClient.attachments().isEmpty());
        assertTrue(fx.imp.bufinfo().contains("Total 0 devices attached"), fx.imp.bufinfo());
        assertEquals(0, ops.count("detach"), "an attach the exporter failed is not detached");
        ops.heal();
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        assertTrue(a.isAttached());
        assertEquals(1, dto().attachments.length);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void detachThrowingStillDetaches(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        fx.imp.mapAttachment(a, DmaDataDirection.BIDIRECTIONAL);
        Throwable bug = kind.make().get();
        ops.fail("detach", bug);

        assertDoesNotThrow(() -> fx.imp.detach(a));

        assertFalse(a.isAttached());
        assertEquals(1, ops.count("unmap"));
        assertEquals(1, ops.count("detach"));
        assertEquals(0, dto().attachments.length);
        assertTrue(fx.impClient.attachments().isEmpty());
        assertReported("detach", bug);
        assertErrno(Errno.EINVAL, () -> fx.imp.detach(a));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void beginThrowingIsEioAndOpensNoBracket(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        Throwable bug = kind.make().get();
        ops.fail("begin", bug);

        assertEio(bug, () -> fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE));

        assertReported("beginCpuAccess", bug);
        assertEquals(0, clientDto(20).cpuAccessBrackets);
        assertErrno(Errno.EINVAL, () -> fx.imp.kmap(buf, 0));
        assertErrno(Errno.EINVAL, () -> fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        assertEquals(0, ops.count("end"));
        assertEquals(0, ops.count("kmap"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void endThrowingIsEioButClosesTheBracket(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        Throwable bug = kind.make().get();
        ops.fail("end", bug);

        assertEio(bug, () -> fx.imp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE));

        assertReported("endCpuAccess", bug);
        // end is cleanup: the bracket is closed whatever the exporter did
        assertEquals(0, clientDto(20).cpuAccessBrackets);
        assertErrno(Errno.EINVAL, () -> fx.imp.kmap(buf, 0));
        assertErrno(Errno.EINVAL, () -> fx.imp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE));
        fx.core.closeClient(fx.impClient);
        assertTrue(fx.core.leaks().recent().stream().noneMatch(l -> l.kind.equals(LeakDTO.KIND_CPU_ACCESS)),
                "no bracket is left to reclaim");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void kmapThrowingIsEioAndHoldsNoPageNorAtomicSlot(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        Throwable bug = kind.make().get();
        ops.fail("kmap", bug);
        ops.fail("kmapAtomic", bug);

        assertEio(bug, () -> fx.imp.kmap(buf, 0));
        assertEio(bug, () -> fx.imp.kmapAtomic(buf, 1));
        assertEio(bug, () -> fx.imp.kmapAtomic(buf, 1));

        assertReported("kmap", bug);
        assertTrue(impHolding(buf).kmaps().isEmpty());
        ops.heal();
        // failed atomic kmaps used none of this thread's two slots
        MemorySegment p0 = fx.imp.kmapAtomic(buf, 0);
        MemorySegment p1 = fx.imp.kmapAtomic(buf, 1);
        fx.imp.kunmapAtomic(buf, 1, p1);
        fx.imp.kunmapAtomic(buf, 0, p0);
        assertEquals(0, ops.count("kunmap"), "nothing to give back for the failed kmaps");
        assertEquals(2, ops.count("kunmapAtomic"));
        fx.imp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void kunmapThrowingIsEioButThePageIsGivenUp(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment page = fx.imp.kmap(buf, 1);
        MemorySegment atomic = fx.imp.kmapAtomic(buf, 0);
        Throwable bug = kind.make().get();
        ops.fail("kunmap", bug);
        ops.fail("kunmapAtomic", bug);

        assertEio(bug, () -> fx.imp.kunmapAtomic(buf, 0, atomic));
        assertEio(bug, () -> fx.imp.kunmap(buf, 1, page));

        assertReported("kunmap", bug);
        // kunmap is cleanup: the core's record is gone, a second one is the importer's error
        assertTrue(impHolding(buf).kmaps().isEmpty());
        assertErrno(Errno.EINVAL, () -> fx.imp.kunmap(buf, 1, page));
        assertErrno(Errno.EINVAL, () -> fx.imp.kunmapAtomic(buf, 0, atomic));
        ops.heal();
        MemorySegment a0 = fx.imp.kmapAtomic(buf, 0); // both atomic slots are free again
        MemorySegment a1 = fx.imp.kmapAtomic(buf, 1);
        fx.imp.kunmapAtomic(buf, 1, a1);
        fx.imp.kunmapAtomic(buf, 0, a0);
        fx.imp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        fx.core.closeClient(fx.impClient);
        assertTrue(fx.core.leaks().recent().stream().noneMatch(l -> l.kind.equals(LeakDTO.KIND_KMAP)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void vmapThrowingIsEioAndLeavesNoVmap(Bug kind) throws Exception {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        Throwable bug = kind.make().get();
        ops.fail("vmap", bug);

        assertEio(bug, () -> fx.imp.vmap(buf));

        assertReported("vmap", bug);
        assertEquals(0, bufferDto(buf).vmapCount);
        assertEquals(0, impHolding(buf).vmaps());
        assertEquals(0, clientDto(20).vmaps);
        assertErrno(Errno.EINVAL, () -> fx.imp.vunmap(buf, ops.storage));
        ops.heal();
        MemorySegment other = onOtherThread(() -> fx.exp.vmap(buf));
        MemorySegment mine = fx.imp.vmap(buf);
        assertEquals(other.address(), mine.address());
        assertEquals(2, ops.count("vmap"), "the failed vmap and the first good one");
        fx.imp.vunmap(buf, mine);
        fx.exp.vunmap(buf, other);
        assertEquals(1, ops.count("vunmap"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void vunmapThrowingIsEioButTheVmapIsUndone(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        MemorySegment mine = fx.imp.vmap(buf);
        MemorySegment theirs = fx.exp.vmap(buf);
        Throwable bug = kind.make().get();
        ops.fail("vunmap", bug);

        fx.imp.vunmap(buf, mine); // not the last one: the exporter is not called
        assertEquals(0, ops.count("vunmap"));
        assertEio(bug, () -> fx.exp.vunmap(buf, theirs));

        assertReported("vunmap", bug);
        assertEquals(0, bufferDto(buf).vmapCount);
        assertErrno(Errno.EINVAL, () -> fx.exp.vunmap(buf, theirs));
        ops.heal();
        MemorySegment again = fx.imp.vmap(buf);
        assertEquals(2, ops.count("vmap"), "the next vmap starts afresh");
        fx.imp.vunmap(buf, again);
        fx.imp.put(buf);
        fx.exp.put(buf);
        assertEquals(2, ops.count("vunmap"), "the release does not vunmap a second time");
        assertEquals(1, ops.count("release"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void vunmapThrowingAtReleaseStillReleases(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        fx.imp.vmap(buf); // never undone by the importer
        Throwable bug = kind.make().get();
        ops.fail("vunmap", bug);

        fx.imp.put(buf);
        assertDoesNotThrow(() -> fx.exp.put(buf));

        assertEquals(1, ops.count("vunmap"));
        assertEquals(1, ops.count("release"));
        assertTrue(fx.core.buffers().all().isEmpty());
        assertReported("vunmap", bug);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void mmapThrowingIsEioAndKeepsNoReference(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
        long refs = fx.imp.fdinfo(fd).count();
        Throwable bug = kind.make().get();
        ops.fail("mmap", bug);

        assertEio(bug, () -> fx.imp.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ));
        assertEio(bug, () -> fx.imp.mmap(buf, new VmArea(0, PAGE, DmaBufUapi.PROT_READ)));

        assertReported("mmap", bug);
        assertEquals(refs, fx.imp.fdinfo(fd).count(), "the failed mappings hold no reference");
        assertTrue(fx.impClient.mmaps().isEmpty());
        assertEquals(0, clientDto(20).mmaps);
        ops.heal();
        try (DmaBufMapping m = fx.imp.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ)) {
            assertEquals(refs + 1, fx.imp.fdinfo(fd).count());
            assertEquals(PAGE, m.length());
        }
        assertEquals(refs, fx.imp.fdinfo(fd).count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void releaseThrowingAtTheLastPutStillRemovesTheBufferOnce(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        Throwable bug = kind.make().get();
        ops.fail("release", bug);

        fx.imp.put(buf);
        assertDoesNotThrow(() -> fx.exp.put(buf));

        assertEquals(1, ops.count("release"));
        assertTrue(fx.core.buffers().all().isEmpty());
        assertEquals(1, fx.core.buffers().releasedCount());
        assertEquals(0, fx.core.buffers().liveBytes());
        assertNull(fx.expClient.existingHolding(CoreFixture.raw(buf)));
        assertNull(impHolding(buf));
        assertReported("release", bug);
        assertErrno(Errno.EBADF, () -> fx.exp.get(buf));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void releaseThrowingAtRevokeStillRevokesAndNeverReleasesAgain(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        Throwable bug = kind.make().get();
        ops.fail("release", bug);

        assertDoesNotThrow(() -> fx.exp.revoke(buf));

        assertEquals(1, ops.count("release"));
        assertEquals(BufferDTO.STATE_REVOKED, bufferDto(buf).state);
        assertEquals(0, fx.core.buffers().liveBytes());
        assertReported("release", bug);
        assertErrno(Errno.ENODEV, () -> fx.imp.vmap(buf));
        fx.imp.put(buf);
        fx.exp.put(buf);
        assertEquals(1, ops.count("release"));
        assertTrue(fx.core.buffers().all().isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void pinThrowingAtAStaticAttachUndoesTheAttach(Bug kind) {
        Faulty ops = new FaultyDynamic(SIZE);
        DmaBuf buf = export(ops);
        Throwable bug = kind.make().get();
        ops.fail("pin", bug);

        assertEio(bug, () -> fx.imp.attach(buf, Device.of("display")));

        assertReported("pin", bug);
        assertEquals(1, ops.count("attach"));
        assertEquals(1, ops.count("detach"), "the exporter's attach was undone");
        assertEquals(0, ops.count("unpin"), "a pin that failed is not undone");
        assertEquals(0, dto().attachments.length);
        assertTrue(fx.impClient.attachments().isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void pinThrowingOnADynamicAttachmentHoldsNoPin(Bug kind) {
        Faulty ops = new FaultyDynamic(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.dynamicAttach(buf, Device.of("gpu"), att -> {
        });
        Throwable bug = kind.make().get();
        ops.fail("pin", bug);

        assertEio(bug, () -> fx.imp.pin(a));

        assertReported("pin", bug);
        assertEquals(0, attachmentDto("gpu").pins);
        assertErrno(Errno.EINVAL, () -> fx.imp.unpin(a));
        fx.imp.detach(a);
        assertEquals(0, ops.count("unpin"));
        assertEquals(1, ops.count("detach"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void unpinThrowingIsEioAndThePinStaysUntilItWorks(Bug kind) {
        Faulty ops = new FaultyDynamic(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.dynamicAttach(buf, Device.of("gpu"), att -> {
        });
        fx.imp.pin(a);
        Throwable bug = kind.make().get();
        ops.fail("unpin", bug);

        assertEio(bug, () -> fx.imp.unpin(a));

        assertReported("unpin", bug);
        assertEquals(1, attachmentDto("gpu").pins, "a failed call changes nothing");
        ops.heal();
        fx.imp.unpin(a);
        assertEquals(0, attachmentDto("gpu").pins);
        fx.imp.detach(a);
        assertEquals(2, ops.count("unpin"), "detach has no pin left to undo");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void unpinThrowingDuringDetachStillDetaches(Bug kind) {
        Faulty ops = new FaultyDynamic(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("display")); // the core pins for a static importer
        assertEquals(1, ops.count("pin"));
        Throwable bug = kind.make().get();
        ops.fail("unpin", bug);

        assertDoesNotThrow(() -> fx.imp.detach(a));

        assertFalse(a.isAttached());
        assertEquals(1, ops.count("unpin"));
        assertEquals(1, ops.count("detach"));
        assertEquals(0, dto().attachments.length);
        assertReported("unpin", bug);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bugs")
    void driverBugsDuringABundlesReclaimAreReportedAgainstTheExporterAndTheReclaimCompletes(Bug kind) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        fx.imp.kmap(buf, 0);
        fx.imp.vmap(buf);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        Throwable bug = kind.make().get();
        List<String> failing = List.of("kunmap", "end", "vunmap", "unmap", "detach");
        failing.forEach(op -> ops.fail(op, bug));

        assertDoesNotThrow(() -> fx.core.closeClient(fx.impClient));

        for (String op : failing) {
            assertEquals(1, ops.count(op), () -> "the reclaim called " + op + " once");
        }
        assertTrue(fx.impClient.holdings().isEmpty());
        assertTrue(fx.impClient.attachments().isEmpty());
        assertEquals(0, dto().attachments.length);
        assertEquals(0, bufferDto(buf).vmapCount);
        assertEquals(1, CoreFixture.raw(buf).refCount(), "only the exporter's reference is left");
        List<String> reports = fx.log.errors.stream().filter(m -> m.contains(bug.toString())).toList();
        for (String op : List.of("kunmap", "endCpuAccess", "vunmap", "unmap", "detach")) {
            assertTrue(reports.stream().anyMatch(m -> m.contains(op)), () -> "no report of " + op + ": " + reports);
        }
        for (String m : reports) {
            assertTrue(m.contains(fx.expClient.describe()), () -> "the report must name the exporter's bundle ("
                    + fx.expClient.describe() + "), not blame the core or the importer: " + m);
        }
        fx.exp.put(buf);
        assertEquals(1, ops.count("release"));
        assertTrue(fx.core.buffers().all().isEmpty());
    }

    // ---- every op: refusals pass through, checked exceptions are driver bugs too --------------------------------

    /** The ops whose failure reaches the caller, each armed on a fresh buffer; returns the call that runs it. */
    private Executable arm(String op, Faulty ops, DmaBuf buf) {
        switch (op) {
            case "map": {
                DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
                return () -> fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
            }
            case "unmap": {
                DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
                SgTable t = fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
                return () -> fx.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE);
            }
            case "attach":
                return () -> fx.imp.attach(buf, Device.of("isp"));
            case "begin":
                return () -> fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            case "end":
                fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
                return () -> fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            case "kmap":
                fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
                return () -> fx.imp.kmap(buf, 0);
            case "kunmap": {
                fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
                MemorySegment p = fx.imp.kmap(buf, 0);
                return () -> fx.imp.kunmap(buf, 0, p);
            }
            case "vmap":
                return () -> fx.imp.vmap(buf);
            case "vunmap": {
                MemorySegment v = fx.imp.vmap(buf);
                return () -> fx.imp.vunmap(buf, v);
            }
            case "mmap": {
                int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
                return () -> fx.imp.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ);
            }
            case "pin": {
                DmaBufAttachment a = fx.imp.dynamicAttach(buf, Device.of("gpu"), att -> {
                });
                return () -> fx.imp.pin(a);
            }
            case "unpin": {
                DmaBufAttachment a = fx.imp.dynamicAttach(buf, Device.of("gpu"), att -> {
                });
                fx.imp.pin(a);
                return () -> fx.imp.unpin(a);
            }
            default:
                throw new IllegalArgumentException(op);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = { "map", "unmap", "attach", "begin", "end", "kmap", "kunmap", "vmap", "vunmap", "mmap",
            "pin", "unpin" })
    void aRefusalFromTheExporterPassesThroughUnchangedAndUnlogged(String op) {
        Faulty ops = new FaultyDynamic(SIZE);
        DmaBuf buf = export(ops);
        Executable call = arm(op, ops, buf);
        DmaBufException refusal = new DmaBufException(Errno.EAGAIN, "the ISP is busy, try again");
        ops.fail(op, refusal);

        DmaBufException e = assertErrno(Errno.EAGAIN, call);

        assertSame(refusal, e, "the driver's own exception reaches the caller");
        assertTrue(fx.log.errors.isEmpty(), () -> "a refusal is not a driver bug: " + fx.log.errors);
    }

    /**
     * DmaBufOps: "any other exception is treated as a driver bug, reported against the exporter's bundle and turned
     * into EIO" - a checked exception too, which driver code in another JVM language (or using a sneaky throw)
     * can throw without declaring it.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = { "map", "unmap", "attach", "begin", "end", "kmap", "kunmap", "vmap", "vunmap", "mmap",
            "pin", "unpin" })
    void aCheckedExceptionFromTheExporterIsADriverBugToo(String op) throws Exception {
        Faulty ops = new FaultyDynamic(SIZE);
        DmaBuf buf = export(ops);
        Executable call = arm(op, ops, buf);
        IOException bug = new IOException("the ISP's firmware channel closed");
        ops.fail(op, bug);

        assertEio(bug, call);

        assertReported(op.equals("begin") || op.equals("end") ? op + "CpuAccess" : op, bug);
        ops.heal();
        // the buffer's lock is free again
        assertNotNull(onOtherThread(() -> fx.exp.vmap(buf)));
    }

    @Test
    void aCheckedExceptionFromReleaseOrDetachDoesNotStopTheCleanup() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        IOException detachBug = new IOException("the ISP's firmware channel closed");
        IOException releaseBug = new IOException("the ISP's carve-out is gone");
        ops.fail("detach", detachBug);
        ops.fail("release", releaseBug);

        assertDoesNotThrow(() -> fx.imp.detach(a));
        fx.imp.put(buf);
        assertDoesNotThrow(() -> fx.exp.put(buf));

        assertFalse(a.isAttached());
        assertEquals(1, ops.count("detach"));
        assertEquals(1, ops.count("release"));
        assertTrue(fx.core.buffers().all().isEmpty());
        assertReported("detach", detachBug);
        assertReported("release", releaseBug);
    }

    // ---- ops returning nothing or the wrong size --------------------------------------------------------------

    @Test
    void mapReturningNoTableIsEnomemAndNothingIsUnmapped() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        ops.tableOverride = att -> null;

        assertErrno(Errno.ENOMEM, () -> fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertEquals(0, ops.count("unmap"));
        assertEquals(0, attachmentDto("isp").mappedTables);
    }

    @ParameterizedTest(name = "table of {0} bytes")
    @ValueSource(longs = { SIZE - PAGE, SIZE + PAGE })
    void mapReturningAWrongSizedTableIsEioAndTheTableIsGivenBack(long length) {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        SgTable wrong = SgTable.contiguous(1 << 20, length);
        ops.tableOverride = att -> wrong;

        DmaBufException e = assertErrno(Errno.EIO, () -> fx.imp.mapAttachment(a, DmaDataDirection.FROM_DEVICE));

        assertTrue(e.getMessage().contains(EXPORTER), e.getMessage());
        assertEquals(1, ops.count("unmap"), "the core unmapped the table it refused");
        assertTrue(ops.directions.contains("unmap:FROM_DEVICE"), ops.directions.toString());
        assertSame(wrong, ops.lastUnmapped, "the very table map returned");
        assertEquals(0, attachmentDto("isp").mappedTables);
        fx.imp.detach(a);
        assertEquals(1, ops.count("unmap"), "nothing more to unmap at detach");
    }

    @Test
    void vmapReturningNothingOrTooLittleIsEioAndLeavesNoVmap() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        ops.vmapOverride = b -> null;
        assertErrno(Errno.EIO, () -> fx.imp.vmap(buf));
        assertEquals(0, ops.count("vunmap"), "nothing to give back for a null vmap");
        ops.vmapOverride = b -> ops.storage.asSlice(0, SIZE - 1);
        assertErrno(Errno.EIO, () -> fx.imp.vmap(buf));
        assertEquals(1, ops.count("vunmap"), "the short segment was given back");
        ops.vmapOverride = b -> MemorySegment.ofArray(new byte[(int) SIZE]);
        assertErrno(Errno.EIO, () -> fx.imp.vmap(buf));
        assertEquals(2, ops.count("vunmap"), "the heap segment was given back");

        assertEquals(0, bufferDto(buf).vmapCount);
        assertEquals(0, impHolding(buf).vmaps());
        ops.vmapOverride = null;
        assertEquals(SIZE, fx.imp.vmap(buf).byteSize());
    }

    @Test
    void kmapReturningNothingOrTooLittleIsEioAndHoldsNoPage() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        ops.kmapResult = page -> null;
        assertErrno(Errno.EIO, () -> fx.imp.kmap(buf, 0));
        assertEquals(0, ops.count("kunmap"));
        ops.kmapResult = page -> ops.storage.asSlice(0, 100);
        assertErrno(Errno.EIO, () -> fx.imp.kmap(buf, 0));
        assertEquals(1, ops.count("kunmap"), "the short page was given back");

        assertTrue(impHolding(buf).kmaps().isEmpty());
        ops.kmapResult = null;
        assertEquals(PAGE, fx.imp.kmap(buf, 0).byteSize());
    }

    @Test
    void mmapReturningNothingOrTooLittleIsEioAndKeepsNoReference() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
        long refs = fx.imp.fdinfo(fd).count();
        ops.mmapOverride = vma -> null;
        assertErrno(Errno.EIO, () -> fx.imp.mmap(fd, 0, SIZE, DmaBufUapi.PROT_READ));
        ops.mmapOverride = vma -> ops.storage.asSlice(0, PAGE);
        assertErrno(Errno.EIO, () -> fx.imp.mmap(fd, 0, SIZE, DmaBufUapi.PROT_READ));

        assertEquals(refs, fx.imp.fdinfo(fd).count());
        assertTrue(fx.impClient.mmaps().isEmpty());
    }

    // ---- a slow op, and ops calling back into the core --------------------------------------------------------

    @Test
    void aSlowLockedOpMakesOtherCallersTimeOutNamingTheHolderWithoutDeadlock() throws Exception {
        use(new CoreFixture(CoreConfig.DEFAULTS.withTimeouts(200, 200)));
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufRegistry other = fx.bundle(30, "other.importer");
        other.get(buf);
        DmaBufAttachment slowAtt = fx.imp.attach(buf, Device.of("slow-isp"));
        DmaBufAttachment fastAtt = other.attach(buf, Device.of("fast-gpu"));
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        AtomicBoolean blockNext = new AtomicBoolean(true);
        ops.hooks.put("map", () -> {
            if (blockNext.compareAndSet(true, false)) {
                inside.countDown();
                await(proceed); // a driver waiting for its hardware
            }
        });

        Future<SgTable> slow = start("slow-mapper", () -> fx.imp.mapAttachment(slowAtt, DmaDataDirection.TO_DEVICE));
        await(inside);
        try {
            long t0 = System.nanoTime();
            DmaBufException e = assertErrno(Errno.ETIMEDOUT,
                    () -> other.mapAttachment(fastAtt, DmaDataDirection.FROM_DEVICE));
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(waited >= 190 && waited < 10_000, "waited " + waited + " ms for a 200 ms lock timeout");
            assertTrue(e.getMessage().contains("held by thread 'slow-mapper'"), e.getMessage());
            assertTrue(e.getMessage().contains("exporter op map"), e.getMessage());
            assertErrno(Errno.ETIMEDOUT, () -> other.vmap(buf));
            // the listings never hang on a stuck buffer
            assertTrue(fx.imp.bufinfo().contains(EXPORTER));
            assertEquals(1, dto().buffers.length);
            assertEquals(1, ops.count("map"), "the waiters never reached the exporter");
        } finally {
            proceed.countDown();
        }
        assertNotNull(slow.get(WAIT_SECONDS, TimeUnit.SECONDS));
        SgTable t = other.mapAttachment(fastAtt, DmaDataDirection.FROM_DEVICE);
        assertNotNull(t);
        assertEquals(2, ops.count("map"));
        assertEquals(1, attachmentDto("slow-isp").mappedTables);
        assertEquals(1, attachmentDto("fast-gpu").mappedTables);
        assertEquals(0, bufferDto(buf).vmapCount);
    }

    @Test
    void mapCallingMapAttachmentOnItsOwnBufferIsEdeadlk() throws Exception {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        DmaBufAttachment b = fx.imp.attach(buf, Device.of("scaler"));
        AtomicReference<DmaBufException> inner = new AtomicReference<>();
        AtomicBoolean reenter = new AtomicBoolean(true);
        ops.hooks.put("map", () -> {
            if (reenter.get()) {
                try {
                    fx.imp.mapAttachment(b, DmaDataDirection.TO_DEVICE);
                } catch (DmaBufException e) {
                    inner.set(e);
                    throw e;
                }
            }
        });

        DmaBufException e = assertErrno(Errno.EDEADLK, () -> fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertSame(inner.get(), e);
        assertTrue(e.getMessage().contains("map") && e.getMessage().contains(EXPORTER), e.getMessage());
        assertEquals(1, ops.count("map"), "the callback never reached the exporter");
        assertEquals(0, attachmentDto("isp").mappedTables);
        assertEquals(0, attachmentDto("scaler").mappedTables);
        assertTrue(fx.log.errors.isEmpty(), "EDEADLK is the core's refusal, passed through: " + fx.log.errors);
        reenter.set(false);
        assertNotNull(onOtherThread(() -> fx.imp.mapAttachment(b, DmaDataDirection.TO_DEVICE)));
        assertNotNull(fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
    }

    @Test
    void mapCallingVmapOnItsOwnBufferIsEdeadlk() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        AtomicReference<DmaBufException> inner = new AtomicReference<>();
        ops.hooks.put("map", () -> {
            try {
                fx.exp.vmap(buf);
            } catch (DmaBufException e) {
                inner.set(e);
                throw e;
            }
        });

        assertErrno(Errno.EDEADLK, () -> fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertEquals(Errno.EDEADLK, inner.get().errno());
        assertEquals(0, ops.count("vmap"));
        assertEquals(0, bufferDto(buf).vmapCount);
        ops.hooks.clear();
        assertEquals(SIZE, fx.exp.vmap(buf).byteSize());
    }

    @Test
    void vmapCallingMapAttachmentOnItsOwnBufferIsEdeadlk() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        ops.hooks.put("vmap", () -> fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertErrno(Errno.EDEADLK, () -> fx.exp.vmap(buf));

        assertEquals(0, ops.count("map"));
        assertEquals(0, bufferDto(buf).vmapCount);
        assertEquals(0, attachmentDto("isp").mappedTables);
    }

    @Test
    void aLockedOpMayCallTheCoreForAnotherBuffer() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        Faulty otherOps = new Faulty(SIZE);
        DmaBuf otherBuf = export(otherOps);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        AtomicReference<MemorySegment> seen = new AtomicReference<>();
        ops.hooks.put("map", () -> {
            MemorySegment v = fx.exp.vmap(otherBuf); // a staging buffer of the same driver
            seen.set(v);
            fx.exp.vunmap(otherBuf, v);
        });

        assertNotNull(fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertEquals(SIZE, seen.get().byteSize());
        assertEquals(1, otherOps.count("vmap"));
        assertEquals(1, otherOps.count("vunmap"));
    }

    @Test
    void anUnlockedOpMayCallBackIntoTheCoreForItsOwnBuffer() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        List<String> inside = new CopyOnWriteArrayList<>();
        ops.hooks.put("begin", () -> {
            MemorySegment v = fx.exp.vmap(buf); // e.g. to invalidate caches through a CPU mapping
            v.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
            fx.exp.vunmap(buf, v);
            inside.add("begin used vmap");
        });
        ops.hooks.put("attach", () -> {
            fx.exp.get(buf);
            fx.exp.put(buf);
            inside.add("attach used get/put");
        });

        fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));

        assertEquals(List.of("begin used vmap", "attach used get/put"), inside);
        assertEquals(1, ops.count("vmap"));
        assertEquals(1, ops.count("vunmap"));
        assertEquals(7, fx.imp.kmap(buf, 0).get(ValueLayout.JAVA_BYTE, 0), "the bracket is open");
        assertTrue(a.isAttached());
        assertEquals(2, bufferDto(buf).count, "the callback's get/put left the count as it was");
    }

    // ---- revoke while an exporter call is in flight -----------------------------------------------------------

    @Test
    void aRevokeWaitsForTheExporterCallInFlightAndReleasesAfterIt() throws Exception {
        use(new CoreFixture(CoreConfig.DEFAULTS.withTimeouts(2000, 20_000)));
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        ops.hooks.put("begin", () -> {
            ops.events.add("begin entered");
            inside.countDown();
            await(proceed);
            ops.events.add("begin returns");
        });
        ops.hooks.put("release", () -> ops.events.add("release"));

        Future<Object> begin = start("cpu-user", () -> {
            fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            return null;
        });
        await(inside);
        AtomicReference<Thread> revoker = new AtomicReference<>();
        Future<Object> revoke = start("revoker", () -> {
            revoker.set(Thread.currentThread());
            fx.exp.revoke(buf);
            return null;
        });
        try {
            // the revoke has started (new calls are refused) and waits, parked, for the call in flight
            spinUntil("the buffer is revoked", () -> CoreFixture.raw(buf).state() == Buffer.State.REVOKED);
            spinUntil("the revoke waits", () -> revoker.get() != null
                    && revoker.get().getState() == Thread.State.TIMED_WAITING);
            assertErrno(Errno.ENODEV, () -> fx.exp.vmap(buf));
            assertFalse(revoke.isDone());
            assertEquals(0, ops.count("release"), "no release while the exporter's begin is still running");
        } finally {
            proceed.countDown();
        }
        revoke.get(WAIT_SECONDS, TimeUnit.SECONDS);
        begin.get(WAIT_SECONDS, TimeUnit.SECONDS); // admitted before the revoke: it completes

        assertEquals(List.of("begin entered", "begin returns", "release"), ops.events);
        assertEquals(1, ops.count("release"));
        fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE); // cleanup on the revoked buffer
        assertEquals(0, ops.count("end"));
        assertTrue(fx.log.warnings.stream().noneMatch(w -> w.contains("gave up waiting")), fx.log.warnings::toString);
    }

    @Test
    void aRevokeGivesUpWaitingAfterTheDrainTimeout() throws Exception {
        use(new CoreFixture(CoreConfig.DEFAULTS.withTimeouts(2000, 200)));
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        ops.hooks.put("begin", () -> {
            inside.countDown();
            await(proceed);
            ops.events.add("begin returns");
        });
        ops.hooks.put("release", () -> ops.events.add("release"));

        Future<Object> begin = start("stuck-cpu-user", () -> {
            fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            return null;
        });
        await(inside);
        long t0 = System.nanoTime();
        try {
            fx.exp.revoke(buf);
        } finally {
            proceed.countDown();
        }
        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        begin.get(WAIT_SECONDS, TimeUnit.SECONDS);

        assertTrue(took >= 190 && took < 10_000, "the revoke took " + took + " ms with a 200 ms drain timeout");
        assertEquals("release", ops.events.get(0), "the revoke went ahead before the stuck call returned");
        assertEquals(1, ops.count("release"));
        assertTrue(fx.log.warnings.stream().anyMatch(w -> w.contains("gave up waiting for 1 exporter call")),
                fx.log.warnings::toString);
    }

    // ---- misbehaving importers --------------------------------------------------------------------------------

    @Test
    void aDoublePutIsEinvalNamesTheBundleAndChangesNothing() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        fx.imp.put(buf);

        DmaBufException e = assertErrno(Errno.EINVAL, () -> fx.imp.put(buf));

        assertTrue(e.getMessage().contains(fx.impClient.describe()), e.getMessage());
        assertEquals(1, CoreFixture.raw(buf).refCount());
        assertEquals(0, ops.count("release"));
        assertEquals(SIZE, fx.exp.vmap(buf).byteSize(), "the buffer is alive for its owner");
    }

    @Test
    void vunmapOfAVmapNeverTakenIsEinvalAndLeavesTheOwnersVmap() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        MemorySegment owners = fx.exp.vmap(buf);

        DmaBufException e = assertErrno(Errno.EINVAL, () -> fx.imp.vunmap(buf, owners));

        assertTrue(e.getMessage().contains(fx.impClient.describe()), e.getMessage());
        assertEquals(1, bufferDto(buf).vmapCount);
        assertEquals(0, ops.count("vunmap"));
        owners.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        fx.exp.vunmap(buf, owners);
        assertEquals(1, ops.count("vunmap"));
    }

    @Test
    void kunmapTwiceIsEinvalAndReachesTheExporterOnce() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment page = fx.imp.kmap(buf, 1);
        fx.imp.kunmap(buf, 1, page);

        DmaBufException e = assertErrno(Errno.EINVAL, () -> fx.imp.kunmap(buf, 1, page));

        assertTrue(e.getMessage().contains(fx.impClient.describe()), e.getMessage());
        assertEquals(1, ops.count("kunmap"));
        MemorySegment atomic = fx.imp.kmapAtomic(buf, 0);
        fx.imp.kunmapAtomic(buf, 0, atomic);
        assertErrno(Errno.EINVAL, () -> fx.imp.kunmapAtomic(buf, 0, atomic));
        assertEquals(1, ops.count("kunmapAtomic"));
        fx.imp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
    }

    @Test
    void cpuViewsAreDeadAfterRelease() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        MemorySegment v = fx.imp.vmap(buf);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment k = fx.imp.kmap(buf, 1);
        int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
        DmaBufMapping m = fx.imp.mmap(fd, 0, SIZE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE);
        MemorySegment mapped = m.segment();
        m.close();
        fx.imp.close(fd);
        fx.imp.kunmap(buf, 1, k);
        fx.imp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        fx.imp.vunmap(buf, v);
        fx.imp.put(buf);
        fx.exp.put(buf);
        assertEquals(1, ops.count("release"));

        assertThrows(IllegalStateException.class, () -> v.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> k.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
        assertThrows(IllegalStateException.class, () -> mapped.get(ValueLayout.JAVA_BYTE, SIZE - 1));
        assertErrno(Errno.EBADF, () -> fx.imp.vmap(buf));
        // the exporter's own storage is untouched: only the views died
        ops.storage.set(ValueLayout.JAVA_BYTE, 0, (byte) 3);
    }

    @Test
    void aStoppedBundleIsRefusedWithEnodevNamingIt() {
        Faulty ops = new Faulty(SIZE);
        DmaBuf buf = export(ops);
        int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
        MemorySegment v = fx.imp.vmap(buf);
        DmaBufAttachment a = fx.imp.attach(buf, Device.of("isp"));
        SgTable t = fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);

        fx.core.closeClient(fx.impClient);

        String who = fx.impClient.describe();
        List<Executable> calls = List.of(() -> fx.imp.get(buf), () -> fx.imp.put(buf), () -> fx.imp.vmap(buf),
                () -> fx.imp.vunmap(buf, v), () -> fx.imp.attach(buf, Device.of("late")), () -> fx.imp.detach(a),
                () -> fx.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE),
                () -> fx.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE), () -> fx.imp.close(fd),
                () -> fx.imp.fdinfo(fd), () -> fx.imp.bufinfo(),
                () -> fx.imp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE),
                () -> fx.imp.export(ExportInfo.builder(new Faulty(PAGE), PAGE).build()));
        for (Executable call : calls) {
            DmaBufException e = assertErrno(Errno.ENODEV, call);
            assertTrue(e.getMessage().contains(who), e.getMessage());
        }
        // what it held was given back to the exporter, once
        assertEquals(1, ops.count("vunmap"));
        assertEquals(1, ops.count("unmap"));
        assertEquals(1, ops.count("detach"));
        assertEquals(1, CoreFixture.raw(buf).refCount());
        fx.exp.put(buf);
        assertEquals(1, ops.count("release"));
    }

    // ---- the misbehaving exporter -----------------------------------------------------------------------------

    /**
     * A test exporter whose ops can be made to throw anything (checked exceptions included, as driver code in
     * another JVM language may), run a hook first (block, call back into the core, record an event), or return a
     * wrong kmap result. Every call counts, including one that blocks or throws.
     */
    static class Faulty extends TestExporter {
        final Map<String, Throwable> faults = new ConcurrentHashMap<>();
        final Map<String, Runnable> hooks = new ConcurrentHashMap<>();
        final List<String> events = new CopyOnWriteArrayList<>();
        volatile Function<Long, MemorySegment> kmapResult;
        volatile SgTable lastUnmapped;

        Faulty(long size) {
            super(size);
        }

        void fail(String op, Throwable failure) {
            faults.put(op, failure);
        }

        void heal() {
            faults.clear();
        }

        /** Counts the call, runs the op's hook, then throws the op's fault if one is set. */
        protected void op(String op) {
            super.called(op);
            Runnable hook = hooks.get(op);
            if (hook != null) {
                hook.run();
            }
            Throwable failure = faults.get(op);
            if (failure != null) {
                throw Faulty.<RuntimeException>sneaky(failure);
            }
        }

        /** Every call is counted once, on entry, by {@link #op}, whether it then blocks, throws or returns. */
        @Override
        protected void called(String op) {
        }

        @SuppressWarnings("unchecked")
        static <T extends Throwable> T sneaky(Throwable t) throws T {
            throw (T) t;
        }

        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            op("map");
            return super.map(attachment, direction);
        }

        @Override
        public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
            op("unmap");
            lastUnmapped = table;
            super.unmap(attachment, table, direction);
        }

        @Override
        public void release(DmaBuf dmaBuf) {
            op("release");
            super.release(dmaBuf);
        }

        @Override
        public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
            op("attach");
            super.attach(dmaBuf, attachment);
        }

        @Override
        public void detach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
            op("detach");
            super.detach(dmaBuf, attachment);
        }

        @Override
        public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
            op("begin");
            super.beginCpuAccess(dmaBuf, direction, offset, length);
        }

        @Override
        public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
            op("end");
            super.endCpuAccess(dmaBuf, direction, offset, length);
        }

        @Override
        public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
            op("kmap");
            Function<Long, MemorySegment> result = kmapResult;
            if (result != null) {
                return result.apply(pageIndex);
            }
            return super.kmap(dmaBuf, pageIndex);
        }

        @Override
        public void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
            op("kunmap");
            super.kunmap(dmaBuf, pageIndex, page);
        }

        @Override
        public MemorySegment kmapAtomic(DmaBuf dmaBuf, long pageIndex) {
            op("kmapAtomic");
            return super.kmapAtomic(dmaBuf, pageIndex);
        }

        @Override
        public void kunmapAtomic(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
            op("kunmapAtomic");
            super.kunmapAtomic(dmaBuf, pageIndex, page);
        }

        @Override
        public MemorySegment vmap(DmaBuf dmaBuf) {
            op("vmap");
            return super.vmap(dmaBuf);
        }

        @Override
        public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
            op("vunmap");
            super.vunmap(dmaBuf, map);
        }

        @Override
        public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
            op("mmap");
            return super.mmap(dmaBuf, vma);
        }
    }

    /** {@link Faulty} with pin and unpin: a dynamic exporter. */
    static class FaultyDynamic extends Faulty {
        FaultyDynamic(long size) {
            super(size);
        }

        @Override
        public void pin(DmaBufAttachment attachment) {
            op("pin");
        }

        @Override
        public void unpin(DmaBufAttachment attachment) {
            op("unpin");
        }
    }
}
