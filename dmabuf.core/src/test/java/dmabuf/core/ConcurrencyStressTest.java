package dmabuf.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;
import dmabuf.core.client.Holding;
import dmabuf.testing.LeakCheck;

/**
 * Bounded-time concurrency stress: every scenario runs a fixed pool of threads released together by a barrier until
 * a deadline (about 1.5 s), waits for them with a bound (a stuck thread fails the test with every thread's stack),
 * then checks that the accounting is exact. No sleeps: waits are barriers, bounded future gets and bounded spins.
 * The figures of each run (threads, wall time, operations, seed) go to {@code target/stress-report.txt}.
 */
class ConcurrencyStressTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;
    /** Wall time of one scenario's hammering: 1.5 s, or {@code -Ddmabuf.stress.millis=N} (./reliability's long mode). */
    private static final long RUN_MILLIS = Long.getLong("dmabuf.stress.millis", 1500);
    /** How long past its deadline a worker may take before it counts as stuck. */
    private static final long STUCK_MILLIS = 20_000;
    /** How long workers of a round go on after the round's deadline, by which the revoke or stop has happened. */
    private static final long GRACE = TimeUnit.SECONDS.toNanos(1);
    private static final DmaDataDirection[] DIRECTIONS = { DmaDataDirection.TO_DEVICE,
            DmaDataDirection.FROM_DEVICE, DmaDataDirection.BIDIRECTIONAL };
    /** Report lines, written once after the class ran. */
    private static final ConcurrentLinkedQueue<String> REPORT = new ConcurrentLinkedQueue<>();

    private CoreFixture fx;
    private ExecutorService pool;
    private final long seed = System.nanoTime();

    @BeforeEach
    void setUp() {
        fx = new CoreFixture();
    }

    @AfterEach
    void tearDown(TestInfo test) throws InterruptedException {
        if (pool != null) {
            pool.shutdownNow();
            assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS), "stress threads did not stop");
        }
        // every buffer is tracked (the fixture runs at PARANOID): none may have been dropped without put; and once
        // every bundle has stopped, nothing may be left allocated
        LeakCheck.collectGarbage();
        long dropped = Arrays.stream(fx.core.snapshots().runtimeDTO().leaks)
                .filter(l -> LeakDTO.KIND_DROPPED.equals(l.kind)).count();
        for (Client c : List.copyOf(fx.core.clients())) {
            fx.core.closeClient(c);
        }
        RuntimeDTO after = fx.core.snapshots().runtimeDTO();
        REPORT.add(String.format("leaks after %s | dropped %d | buffers left %d | bytes left %d",
                test.getTestMethod().map(m -> m.getName()).orElse("?"), dropped, after.totalBuffers,
                after.totalBytes));
        assertEquals(0, dropped, () -> "buffers dropped without put: " + Arrays.toString(after.leaks));
        assertEquals(0, after.totalBuffers, "buffers left once every bundle stopped");
        assertEquals(0, after.totalBytes, "bytes left once every bundle stopped");
    }

    @AfterAll
    static void writeReport() throws IOException {
        Path target = Path.of("target");
        Files.createDirectories(target);
        StringBuilder sb = new StringBuilder("# dmabuf.core ConcurrencyStressTest\n")
                .append("# scenario | threads | wall ms | operations | ops/s | seed; notes\n");
        for (String line : REPORT) {
            sb.append(line).append('\n');
        }
        Files.writeString(target.resolve("stress-report.txt"), sb.toString());
    }

    // ---- scenario (a): shared buffers, every kind of operation ---------------------------------------------------

    @Test
    void manyBundlesSharingBuffersKeepEveryCountExact() throws Exception {
        Tracked plain = new Tracked(3L * PAGE, false);
        Tracked dynamic = new TrackedDynamic(5L * PAGE / 2);
        Tracked caching = new Tracked(4L * PAGE, true);
        List<Tracked> exporters = List.of(plain, dynamic, caching);
        List<DmaBuf> bufs = new ArrayList<>();
        for (Tracked t : exporters) {
            bufs.add(fx.export(t, t.size));
        }
        Client c30 = fx.core.openClient(30, "stress.a");
        Client c40 = fx.core.openClient(40, "stress.b");
        List<Client> clients = List.of(fx.expClient, fx.impClient, c30, c40);
        List<DmaBufRegistry> regs = List.of(fx.exp, fx.imp, fx.core.registryFor(c30), fx.core.registryFor(c40));
        // every bundle other than the exporter keeps one reference to each buffer for the whole run
        for (DmaBufRegistry r : regs.subList(1, regs.size())) {
            bufs.forEach(r::get);
        }
        long expectedRefs = regs.size();
        Map<String, LongAdder> perOp = new ConcurrentHashMap<>();

        int threads = 8;
        long ops = run("a: shared buffers", threads, (index, rnd, deadline) -> {
            DmaBufRegistry reg = regs.get(index % regs.size());
            Device device = Device.of("dev-" + index);
            long n = 0;
            while (System.nanoTime() < deadline) {
                int which = rnd.nextInt(bufs.size());
                DmaBuf buf = bufs.get(which);
                long size = exporters.get(which).size;
                int op = rnd.nextInt(6);
                switch (op) {
                    case 0 -> { // get/put, sometimes two deep
                        reg.get(buf);
                        if (rnd.nextBoolean()) {
                            reg.get(buf);
                            reg.put(buf);
                        }
                        reg.put(buf);
                    }
                    case 1 -> { // vmap/vunmap
                        MemorySegment v = reg.vmap(buf);
                        assertEquals(size, v.byteSize());
                        long at = rnd.nextLong(size);
                        v.set(ValueLayout.JAVA_BYTE, at, (byte) index);
                        v.get(ValueLayout.JAVA_BYTE, at);
                        reg.vunmap(buf, v);
                    }
                    case 2 -> { // attach/map/unmap/detach (static, or dynamic with pin/unpin on the dynamic one)
                        boolean dyn = exporters.get(which) instanceof TrackedDynamic && rnd.nextBoolean();
                        DmaBufAttachment a = dyn ? reg.dynamicAttach(buf, device, att -> {
                        }) : reg.attach(buf, device);
                        if (dyn) {
                            reg.pin(a);
                        }
                        DmaDataDirection dir = DIRECTIONS[rnd.nextInt(DIRECTIONS.length)];
                        SgTable t = reg.mapAttachment(a, dir);
                        assertTrue(t.totalLength() >= size, "table too short");
                        if (rnd.nextInt(4) != 0) { // else detach unmaps it
                            reg.unmapAttachment(a, t, dir);
                        }
                        if (dyn) {
                            reg.unpin(a);
                        }
                        reg.detach(a);
                    }
                    case 3 -> { // begin / kmap (plain or atomic, whole or ranged bracket) / kunmap / end
                        DmaDataDirection dir = DIRECTIONS[rnd.nextInt(DIRECTIONS.length)];
                        long page = rnd.nextLong(buf.pageCount());
                        boolean ranged = rnd.nextBoolean();
                        long off = page * PAGE;
                        long len = Math.min(PAGE, size - off);
                        if (ranged) {
                            reg.beginCpuAccess(buf, dir, off, len);
                        } else {
                            reg.beginCpuAccess(buf, dir);
                        }
                        boolean atomic = rnd.nextBoolean();
                        MemorySegment p = atomic ? reg.kmapAtomic(buf, page) : reg.kmap(buf, page);
                        assertEquals(len, p.byteSize());
                        p.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
                        if (atomic) {
                            reg.kunmapAtomic(buf, page, p);
                        } else {
                            reg.kunmap(buf, page, p);
                        }
                        if (ranged) {
                            reg.endCpuAccess(buf, dir, off, len);
                        } else {
                            reg.endCpuAccess(buf, dir);
                        }
                    }
                    case 4 -> { // fd + mmap + close, in either order
                        int fd = reg.fd(reg.get(buf), DmaBufUapi.O_RDWR);
                        long whole = size / PAGE * PAGE;
                        DmaBufMapping m = reg.mmap(fd, 0, whole, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE);
                        assertEquals(whole, m.length());
                        m.segment().set(ValueLayout.JAVA_BYTE, rnd.nextLong(whole), (byte) 2);
                        if (rnd.nextBoolean()) {
                            reg.close(fd);
                            m.close();
                        } else {
                            m.close();
                            reg.close(fd);
                        }
                    }
                    default -> { // dup + fdinfo + llseek through fds
                        int fd = reg.fd(reg.get(buf), DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC);
                        int dup = reg.dup(fd);
                        assertEquals(size, reg.llseek(dup, 0, DmaBufUapi.SEEK_END));
                        assertTrue(reg.fdinfo(fd).count() >= expectedRefs + 2);
                        reg.close(fd);
                        reg.close(dup);
                    }
                }
                perOp.computeIfAbsent("op" + op, k -> new LongAdder()).increment();
                n++;
            }
            return n;
        }, () -> "per op " + new TreeMap<>(perOp));

        // only the owners' references remain, nothing else is held anywhere
        RuntimeDTO dto = fx.core.snapshots().runtimeDTO();
        for (DmaBuf buf : bufs) {
            assertEquals(expectedRefs, CoreFixture.raw(buf).refCount(), () -> "refcount of " + buf);
            BufferDTO b = dtoOf(dto, buf);
            assertEquals(expectedRefs, b.count);
            assertEquals(0, b.vmapCount, () -> "vmap count of " + buf);
            assertEquals(0, b.attachedDevices.length, () -> "devices of " + buf);
        }
        assertEquals(0, dto.attachments.length);
        for (Client c : clients) {
            assertEquals(0, c.files().openCount(), () -> "fds of " + c);
            assertTrue(c.attachments().isEmpty(), () -> "attachments of " + c);
            assertTrue(c.mmaps().isEmpty(), () -> "mmaps of " + c);
            for (DmaBuf buf : bufs) {
                Holding h = c.existingHolding(CoreFixture.raw(buf));
                assertNotNull(h, () -> c + " lost its holding of " + buf);
                assertEquals(1, h.refs(), () -> "references of " + c + " to " + buf);
                assertEquals(0, h.vmaps(), () -> "vmaps of " + c + " of " + buf);
                assertTrue(h.brackets().isEmpty(), () -> "brackets of " + c + " on " + buf);
                assertTrue(h.kmaps().isEmpty(), () -> "kmaps of " + c + " of " + buf);
            }
        }
        for (ClientDTO c : dto.clients) {
            assertEquals(bufs.size(), c.references, () -> "references of bundle " + c.bundleId);
            assertEquals(0, c.vmaps + c.mmaps + c.attachments + c.openFds + c.cpuAccessBrackets,
                    () -> "bundle " + c.bundleId + " still holds something");
        }
        for (Tracked t : exporters) {
            t.assertBalanced(true);
            assertEquals(0, t.count("release"));
        }
        assertTrue(dynamic.count("pin") > 0, "the dynamic exporter was never pinned");

        // the final puts release each buffer exactly once
        for (DmaBufRegistry r : regs) {
            bufs.forEach(r::put);
        }
        for (Tracked t : exporters) {
            assertEquals(1, t.count("release"));
            t.assertNoOpAfterRelease();
        }
        assertTrue(fx.core.buffers().all().isEmpty(), () -> "still listed: " + fx.core.buffers().all());
        assertEquals(fx.core.buffers().exportedCount(), fx.core.buffers().releasedCount());
        assertEquals(0, fx.core.buffers().liveBytes());
        for (Client c : clients) {
            assertTrue(c.holdings().isEmpty(), () -> c + " still has holdings " + c.holdings());
        }
        assertTrue(fx.log.errors.isEmpty(), () -> "errors: " + fx.log.errors);
        assertTrue(fx.log.warnings.isEmpty(), () -> "warnings: " + fx.log.warnings);
        assertTrue(ops > 0);
    }

    // ---- scenario (b): close racing export ------------------------------------------------------------------------

    @Test
    void closingRandomFdsWhileExportingLeaksNothing() throws Exception {
        AtomicLong exports = new AtomicLong();
        AtomicLong releases = new AtomicLong();
        AtomicLong doubleReleases = new AtomicLong();
        AtomicLong foreignCloses = new AtomicLong();
        LongAdder ebadf = new LongAdder();
        int exporters = 4;
        int threads = 6;
        long ops = run("b: close racing export", threads, (index, rnd, deadline) -> {
            long n = 0;
            while (System.nanoTime() < deadline) {
                if (index >= exporters) { // a thread that closes fd numbers it never opened
                    try {
                        fx.exp.close(rnd.nextInt(12));
                        foreignCloses.incrementAndGet();
                    } catch (DmaBufException e) {
                        expect(e, "close of a random fd", Errno.EBADF);
                        ebadf.increment();
                    }
                    n++;
                    continue;
                }
                DmaBuf buf = fx.exp.export(ExportInfo.builder(new CountingOps(releases, doubleReleases), PAGE)
                        .build());
                exports.incrementAndGet();
                int fd = fx.exp.fd(buf, rnd.nextBoolean() ? DmaBufUapi.O_RDWR
                        : DmaBufUapi.O_RDONLY | DmaBufUapi.O_CLOEXEC);
                int dup = -1;
                try {
                    if (rnd.nextBoolean()) {
                        dup = fx.exp.dup(fd);
                    }
                    if (rnd.nextBoolean()) {
                        DmaBuf got = fx.exp.get(fd); // possibly another buffer, if the fd number was reused
                        fx.exp.put(got);
                    }
                } catch (DmaBufException e) {
                    expect(e, "dup/get of an fd that may have been closed", Errno.EBADF);
                    ebadf.increment();
                }
                for (int f : new int[] { fd, dup }) {
                    if (f < 0) {
                        continue;
                    }
                    try {
                        fx.exp.close(f);
                    } catch (DmaBufException e) {
                        expect(e, "close of an fd another thread may have closed", Errno.EBADF);
                        ebadf.increment();
                    }
                }
                n++;
            }
            return n;
        }, () -> "exports " + exports + ", releases " + releases + ", closes by strangers " + foreignCloses
                + ", EBADF " + ebadf);

        assertEquals(0, fx.expClient.files().openCount(), () -> "open fds: " + fx.expClient.files().openFds());
        assertEquals(0, doubleReleases.get(), "a buffer was released twice");
        assertEquals(exports.get(), releases.get(), "every exported buffer is released once");
        assertEquals(exports.get(), fx.core.buffers().exportedCount());
        assertEquals(exports.get(), fx.core.buffers().releasedCount());
        assertTrue(fx.core.buffers().all().isEmpty(), () -> fx.core.buffers().all().size() + " buffers still listed");
        assertTrue(fx.expClient.holdings().isEmpty(),
                () -> fx.expClient.holdings().size() + " holdings of released buffers remain");
        assertTrue(fx.log.errors.isEmpty(), () -> "errors: " + fx.log.errors);
        assertTrue(ops > 0);
    }

    // ---- scenario (c): rename racing the debug listing ------------------------------------------------------------

    @Test
    void renamingWhileListingNeverShowsATornName() throws Exception {
        int buffers = 2;
        List<DmaBuf> bufs = new ArrayList<>();
        List<Tracked> exporters = new ArrayList<>();
        List<Set<String>> allowed = new ArrayList<>();
        List<String[]> requests = new ArrayList<>();
        int[] expFds = new int[buffers];
        int[] impFds = new int[buffers];
        for (int i = 0; i < buffers; i++) {
            Tracked t = new Tracked(PAGE, false);
            exporters.add(t);
            DmaBuf b = fx.exp.export(ExportInfo.builder(t, PAGE).name("initial-" + i).build());
            bufs.add(b);
            expFds[i] = fx.exp.fd(fx.exp.get(b), DmaBufUapi.O_RDWR);
            impFds[i] = fx.imp.fd(fx.imp.get(b), DmaBufUapi.O_RDWR);
            fx.exp.put(b); // the fds hold the buffer from here on; no object reference is left to drop
            // names of different lengths and UTF-8 widths, some cut short by a NUL as a C string is
            String[] names = new String[16];
            Set<String> ok = ConcurrentHashMap.newKeySet();
            ok.add("initial-" + i);
            for (int k = 0; k < names.length; k++) {
                String base = "b" + i + "-" + k + "-" + "xyz\u00e9\u65e5".repeat(k % 4);
                names[k] = k % 5 == 4 ? base + "\0trailing-junk" : base;
                ok.add(BufferLifecycle.checkName(names[k]));
            }
            requests.add(names);
            allowed.add(ok);
        }
        Map<Long, Integer> indexById = new ConcurrentHashMap<>();
        for (int i = 0; i < buffers; i++) {
            indexById.put(bufs.get(i).id(), i);
        }
        List<String> torn = new CopyOnWriteArrayList<>();
        LongAdder renames = new LongAdder();
        LongAdder listings = new LongAdder();
        LongAdder namesSeen = new LongAdder();

        int threads = 6;
        long ops = run("c: rename racing listing", threads, (index, rnd, deadline) -> {
            long n = 0;
            Device device = Device.of("lister-dev-" + index);
            while (System.nanoTime() < deadline) {
                int i = rnd.nextInt(buffers);
                if (index < 2) { // renamers, through setName and through the raw ioctl, from both bundles
                    String name = requests.get(i)[rnd.nextInt(requests.get(i).length)];
                    boolean byExporter = rnd.nextBoolean();
                    DmaBufRegistry reg = byExporter ? fx.exp : fx.imp;
                    int fd = byExporter ? expFds[i] : impFds[i];
                    if (rnd.nextBoolean()) {
                        reg.setName(fd, name);
                    } else {
                        reg.ioctl(fd, DmaBufUapi.DMA_BUF_SET_NAME_B, name);
                    }
                    renames.increment();
                } else if (index == 2) { // renaming is allowed while attached: keep devices coming and going
                    DmaBufAttachment a = fx.imp.attach(bufs.get(i), device);
                    SgTable t = fx.imp.mapAttachment(a, DmaDataDirection.BIDIRECTIONAL);
                    fx.imp.unmapAttachment(a, t, DmaDataDirection.BIDIRECTIONAL);
                    fx.imp.detach(a);
                } else { // listers: bufinfo, the runtime DTO, fdinfo and the object itself
                    for (Map.Entry<Long, String> e : parseBufinfo(
                            (index % 2 == 0 ? fx.exp : fx.imp).bufinfo()).entrySet()) {
                        check(allowed, indexById, e.getKey(), e.getValue(), "bufinfo", torn);
                        namesSeen.increment();
                    }
                    for (BufferDTO b : fx.core.snapshots().runtimeDTO().buffers) {
                        check(allowed, indexById, b.id, b.name, "runtimeDTO", torn);
                        namesSeen.increment();
                    }
                    check(allowed, indexById, bufs.get(i).id(), fx.imp.fdinfo(impFds[i]).name(), "fdinfo", torn);
                    check(allowed, indexById, bufs.get(i).id(), bufs.get(i).name().orElse(null), "DmaBuf.name",
                            torn);
                    namesSeen.add(2);
                    listings.increment();
                }
                n++;
            }
            return n;
        }, () -> "renames " + renames + ", listings " + listings + ", names checked " + namesSeen);

        assertTrue(torn.isEmpty(), () -> torn.size() + " names not among those set, e.g. " + torn.subList(0,
                Math.min(5, torn.size())));
        assertTrue(renames.sum() > 0 && listings.sum() > 0, "both sides ran");
        for (int i = 0; i < buffers; i++) {
            String last = bufs.get(i).name().orElseThrow();
            assertTrue(allowed.get(i).contains(last), last);
            assertEquals(last, fx.exp.fdinfo(expFds[i]).name());
            exporters.get(i).assertBalanced(false);
        }
        assertTrue(ops > 0);
        assertTrue(fx.log.errors.isEmpty(), () -> "errors: " + fx.log.errors);
    }

    private static void check(List<Set<String>> allowed, Map<Long, Integer> indexById, long id, String name,
            String where, List<String> torn) {
        Integer i = indexById.get(id);
        if (i == null) {
            torn.add(where + ": unknown buffer id " + id);
        } else if (name == null || !allowed.get(i).contains(name)) {
            torn.add(where + ": buffer " + id + " listed as '" + name + "'");
        }
    }

    /** The name column of every buffer line of a bufinfo listing, by inode (buffer id). */
    private static Map<Long, String> parseBufinfo(String listing) {
        Map<Long, String> names = new TreeMap<>();
        for (String line : listing.split("\n")) {
            if (line.isEmpty() || line.startsWith("\t") || !Character.isDigit(line.charAt(0))) {
                continue;
            }
            String[] cols = line.split("\t", 7);
            if (cols.length != 7) {
                throw new AssertionError("bufinfo line with " + cols.length + " columns: " + line);
            }
            // the whole column, a " (revoked)" marker included: no buffer is revoked here, so it fails the check
            names.put(Long.parseLong(cols[5]), cols[6]);
        }
        return names;
    }

    // ---- scenario (d): revoke racing importer operations ----------------------------------------------------------

    @Test
    void revokeRacingImporterOperationsFailsCleanlyAndReleasesOnce() throws Exception {
        Client c30 = fx.core.openClient(30, "stress.importer");
        DmaBufRegistry r30 = fx.core.registryFor(c30);
        List<DmaBufRegistry> importers = List.of(fx.imp, r30);
        int hammerers = 4;
        int threads = hammerers + 1;
        Map<Errno, LongAdder> failures = new ConcurrentHashMap<>();
        LongAdder staleTouches = new LongAdder();
        LongAdder jdkInterrupts = new LongAdder();
        AtomicLong revokeNanos = new AtomicLong();
        LongAdder rounds = new LongAdder();
        long totalOps = 0;
        SplittableRandom main = new SplittableRandom(seed);
        pool = newPool("d", threads);
        long started = System.nanoTime();
        long end = started + TimeUnit.MILLISECONDS.toNanos(RUN_MILLIS);
        while (System.nanoTime() < end) {
            Tracked ops = new Tracked(4L * PAGE, false);
            DmaBuf buf = fx.export(ops, 4L * PAGE);
            importers.forEach(r -> r.get(buf));
            // views and a mapping taken before the revoke, checked afterwards
            MemorySegment vmapView = fx.imp.vmap(buf);
            fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
            MemorySegment kmapView = fx.imp.kmap(buf, 1);
            int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
            DmaBufMapping mapping = fx.imp.mmap(fd, 0, 4L * PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE);
            vmapView.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            kmapView.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            mapping.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1);

            AtomicBoolean revokeRequested = new AtomicBoolean();
            AtomicBoolean revoked = new AtomicBoolean();
            AtomicLong hammerOps = new AtomicLong();
            long revokeAfter = main.nextLong(400);
            long roundSeed = main.nextLong();
            long roundDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<Long>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int index = t;
                futures.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    if (index == hammerers) { // the exporter: revoke once the importers are busy
                        while (hammerOps.get() < revokeAfter && System.nanoTime() < roundDeadline) {
                            Thread.onSpinWait();
                        }
                        revokeRequested.set(true);
                        long t0 = System.nanoTime();
                        fx.exp.revoke(buf);
                        revokeNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                        revoked.set(true);
                        return 1L;
                    }
                    return hammer(importers.get(index % importers.size()), buf,
                            new SplittableRandom(roundSeed + index), index, revokeRequested, revoked, hammerOps,
                            roundDeadline + GRACE, failures, staleTouches, jdkInterrupts);
                }));
            }
            totalOps += await("d: revoke racing importers", futures, roundDeadline + GRACE,
                    () -> "round " + rounds + ", revoke after " + revokeAfter + " importer ops");
            assertTrue(revoked.get());

            assertEquals(1, ops.count("release"), "release runs at the revoke, once");
            assertEquals(ops.count("vmap"), ops.count("vunmap"), "the revoke undid the vmap");
            assertEquals(ops.count("map"), ops.count("unmap"), "the revoke unmapped every table");
            assertEquals(ops.count("attach"), ops.count("detach"), "the revoke detached every attachment");
            assertEquals(BufferDTO.STATE_REVOKED, dtoOf(fx.core.snapshots().runtimeDTO(), buf).state);
            // views taken before the revoke are dead
            assertStale(() -> vmapView.get(ValueLayout.JAVA_BYTE, 0), "vmap view");
            assertStale(() -> kmapView.get(ValueLayout.JAVA_BYTE, 0), "kmap view");
            assertStale(() -> mapping.segment().get(ValueLayout.JAVA_BYTE, 0), "mmap segment");
            // and their cleanup calls still succeed
            fx.imp.kunmap(buf, 1, kmapView);
            fx.imp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
            fx.imp.vunmap(buf, vmapView);
            mapping.close();
            fx.imp.close(fd);
            importers.forEach(r -> r.put(buf));
            fx.exp.put(buf);
            assertEquals(1, ops.count("release"), "the last put does not release again");
            ops.assertNoOpAfterRelease();
            assertTrue(fx.core.buffers().all().isEmpty(), () -> "still listed: " + fx.core.buffers().all());
            rounds.increment();
        }
        report("d: revoke racing importers", threads, System.nanoTime() - started, totalOps,
                "rounds " + rounds + ", failures " + new TreeMap<>(failures) + ", stale view touches "
                        + staleTouches + ", interrupt flags left by arena close " + jdkInterrupts
                        + ", slowest revoke " + TimeUnit.NANOSECONDS.toMicros(revokeNanos.get()) + " us");
        assertTrue(rounds.sum() > 0);
        assertEquals(0, fx.core.buffers().liveBytes());
        assertTrue(fx.log.errors.isEmpty(), () -> "errors: " + fx.log.errors);
    }

    /** One importer thread of scenario (d): vmap, kmap and map in a loop; cleanup calls must never fail. */
    private static long hammer(DmaBufRegistry reg, DmaBuf buf, SplittableRandom rnd, int index,
            AtomicBoolean revokeRequested, AtomicBoolean revoked, AtomicLong hammerOps, long deadline,
            Map<Errno, LongAdder> failures, LongAdder staleTouches, LongAdder jdkInterrupts) {
        Device device = Device.of("hammer-" + index);
        long n = 0;
        long afterRevoke = 0;
        while (afterRevoke < 20 && System.nanoTime() < deadline) {
            if (revoked.get()) {
                afterRevoke++;
            }
            switch (rnd.nextInt(3)) {
                case 0 -> {
                    MemorySegment v;
                    try {
                        v = reg.vmap(buf);
                    } catch (DmaBufException e) {
                        failures.computeIfAbsent(expect(e, "vmap", Errno.ENODEV, Errno.EBADF),
                                k -> new LongAdder()).increment();
                        break;
                    }
                    touch(v, revokeRequested, staleTouches, jdkInterrupts);
                    cleanup("vunmap", revoked, () -> reg.vunmap(buf, v));
                }
                case 1 -> {
                    DmaDataDirection dir = DIRECTIONS[rnd.nextInt(DIRECTIONS.length)];
                    try {
                        reg.beginCpuAccess(buf, dir);
                    } catch (DmaBufException e) {
                        failures.computeIfAbsent(expect(e, "beginCpuAccess", Errno.ENODEV, Errno.EBADF),
                                k -> new LongAdder()).increment();
                        break;
                    }
                    long page = rnd.nextLong(buf.pageCount());
                    MemorySegment p = null;
                    try {
                        p = reg.kmap(buf, page);
                    } catch (DmaBufException e) {
                        failures.computeIfAbsent(expect(e, "kmap", Errno.ENODEV, Errno.EBADF, Errno.EINVAL),
                                k -> new LongAdder()).increment();
                    }
                    if (p != null) {
                        touch(p, revokeRequested, staleTouches, jdkInterrupts);
                        MemorySegment kmapped = p;
                        cleanup("kunmap", revoked, () -> reg.kunmap(buf, page, kmapped));
                    }
                    cleanup("endCpuAccess", revoked, () -> reg.endCpuAccess(buf, dir));
                }
                default -> {
                    DmaBufAttachment a;
                    try {
                        a = reg.attach(buf, device);
                    } catch (DmaBufException e) {
                        failures.computeIfAbsent(expect(e, "attach", Errno.ENODEV, Errno.EBADF),
                                k -> new LongAdder()).increment();
                        break;
                    }
                    DmaDataDirection dir = DIRECTIONS[rnd.nextInt(DIRECTIONS.length)];
                    SgTable t = null;
                    try {
                        t = reg.mapAttachment(a, dir);
                    } catch (DmaBufException e) {
                        failures.computeIfAbsent(expect(e, "mapAttachment", Errno.ENODEV, Errno.EBADF),
                                k -> new LongAdder()).increment();
                    }
                    if (t != null) {
                        SgTable mapped = t;
                        cleanup("unmapAttachment", revoked, () -> reg.unmapAttachment(a, mapped, dir));
                    }
                    cleanup("detach", revoked, () -> reg.detach(a));
                }
            }
            hammerOps.incrementAndGet();
            n++;
        }
        return n;
    }

    /** A cleanup call (vunmap, kunmap, end, unmap, detach) must succeed on a live or revoked buffer alike. */
    private static void cleanup(String what, AtomicBoolean revoked, Runnable call) {
        try {
            call.run();
        } catch (DmaBufException e) {
            throw new AssertionError(what + " is a cleanup call and must succeed on a revoked buffer, but failed "
                    + (revoked.get() ? "after" : "during") + " the revoke with " + e.getMessage(), e);
        }
    }

    /**
     * Reads and writes a view that a revoke may invalidate at any moment. JDK 25 delivers the failure of an access
     * racing a shared arena's close as an asynchronous exception and, doing so, can leave the accessing thread's
     * interrupt flag set (seen a few times in a thousand closes, without the core involved); the flag is cleared here
     * and counted, so it does not turn this thread's next lock wait into EINTR.
     */
    private static void touch(MemorySegment view, AtomicBoolean revokeRequested, LongAdder staleTouches,
            LongAdder jdkInterrupts) {
        try {
            view.set(ValueLayout.JAVA_BYTE, 0, view.get(ValueLayout.JAVA_BYTE, 0));
        } catch (IllegalStateException dead) {
            if (!revokeRequested.get()) {
                throw new AssertionError("a view died before anyone revoked the buffer", dead);
            }
            staleTouches.increment();
        } finally {
            if (revokeRequested.get() && Thread.interrupted()) {
                jdkInterrupts.increment();
            }
        }
    }

    private static void assertStale(Runnable access, String what) {
        try {
            access.run();
            fail(what + " taken before the revoke is still usable after it");
        } catch (IllegalStateException expected) {
            // the view's scope was closed with the buffer
        }
    }

    // ---- scenario (e): bundle stop racing the bundle's own threads ------------------------------------------------

    @Test
    void bundleStopRacingItsOwnThreadsReclaimsEverything() throws Exception {
        int workers = 4;
        int threads = workers + 1;
        Map<Errno, LongAdder> racing = new ConcurrentHashMap<>();
        List<String> problems = new CopyOnWriteArrayList<>();
        LongAdder rounds = new LongAdder();
        LongAdder leaks = new LongAdder();
        long totalOps = 0;
        SplittableRandom main = new SplittableRandom(seed);
        pool = newPool("e", threads);
        long started = System.nanoTime();
        long end = started + TimeUnit.MILLISECONDS.toNanos(RUN_MILLIS);
        for (long id = 1000; System.nanoTime() < end; id++) {
            Client victim = fx.core.openClient(id, "victim.bundle");
            DmaBufRegistry vreg = fx.core.registryFor(victim);
            Tracked shared = new TrackedDynamic(3L * PAGE);
            DmaBuf sharedBuf = fx.export(shared, 3L * PAGE);
            List<Tracked> own = new CopyOnWriteArrayList<>();
            Map<Tracked, DmaBuf> ownBufs = new ConcurrentHashMap<>();
            AtomicBoolean closed = new AtomicBoolean();
            AtomicLong victimOps = new AtomicLong();
            long closeAfter = main.nextLong(300);
            long roundSeed = main.nextLong();
            long roundDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
            long leaksBefore = fx.core.leaks().reportedCount();
            CyclicBarrier start = new CyclicBarrier(threads);
            List<Future<Long>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int index = t;
                futures.add(pool.submit(() -> {
                    start.await(30, TimeUnit.SECONDS);
                    if (index == workers) { // the framework stops the bundle
                        while (victimOps.get() < closeAfter && System.nanoTime() < roundDeadline) {
                            Thread.onSpinWait();
                        }
                        fx.core.closeClient(victim);
                        closed.set(true);
                        return 1L;
                    }
                    return victimLoop(vreg, sharedBuf, own, ownBufs, new SplittableRandom(roundSeed + index),
                            index, closed, victimOps, roundDeadline + GRACE, racing, problems);
                }));
            }
            totalOps += await("e: bundle stop racing its threads", futures, roundDeadline + GRACE,
                    () -> "round with bundle id " + victim.bundleId());
            assertTrue(closed.get());
            assertTrue(problems.isEmpty(), () -> "round " + rounds + ": " + problems);

            // every call after the stop is ENODEV, naming the bundle
            String who = victim.describe();
            for (Runnable call : List.<Runnable>of(() -> vreg.get(sharedBuf), () -> vreg.vmap(sharedBuf),
                    () -> vreg.attach(sharedBuf, Device.of("late")), () -> vreg.export(ExportInfo.builder(
                            new CountingOps(new AtomicLong(), new AtomicLong()), PAGE).build()),
                    () -> vreg.fd(sharedBuf, 0), vreg::bufinfo, () -> vreg.close(0))) {
                DmaBufException e = CoreFixture.assertErrno(Errno.ENODEV, call::run);
                assertTrue(e.getMessage().contains(who), e.getMessage());
            }
            // everything the bundle held was reclaimed
            assertEquals(0, victim.files().openCount(), () -> "fds left: " + victim.files().openFds());
            assertTrue(victim.attachments().isEmpty(), () -> "attachments left: " + victim.attachments());
            assertTrue(victim.mmaps().isEmpty(), () -> "mmaps left: " + victim.mmaps());
            assertTrue(victim.holdings().isEmpty(), () -> "holdings left: " + victim.holdings());
            assertFalse(fx.core.clients().contains(victim));
            Buffer sb = CoreFixture.raw(sharedBuf);
            assertEquals(1, sb.refCount(), "only the exporter's reference remains on the shared buffer");
            assertEquals(0, sb.vmapCount());
            shared.assertBalanced(true);
            for (Tracked t : own) {
                DmaBuf ob = ownBufs.get(t);
                assertEquals(1, t.count("release"), () -> "the bundle's own buffers are revoked and released once: "
                        + ob + " has " + CoreFixture.raw(ob).refCount() + " reference(s), exporter calls " + t.calls);
                t.assertBalanced(false);
                t.assertNoOpAfterRelease();
            }
            fx.exp.put(sharedBuf);
            assertEquals(1, shared.count("release"));
            shared.assertNoOpAfterRelease();
            assertTrue(fx.core.buffers().all().isEmpty(), () -> "still listed: " + fx.core.buffers().all());
            leaks.add(fx.core.leaks().reportedCount() - leaksBefore);
            rounds.increment();
        }
        report("e: bundle stop racing its threads", threads, System.nanoTime() - started, totalOps,
                "rounds " + rounds + ", errnos seen while racing " + new TreeMap<>(racing) + ", leaks reported "
                        + leaks);
        assertTrue(rounds.sum() > 0);
        for (String w : fx.log.warnings) {
            if (w.startsWith("LEAK")) {
                assertTrue(w.contains("victim.bundle"), w);
            }
        }
        assertTrue(fx.log.errors.isEmpty(), () -> "errors: " + fx.log.errors);
    }

    /**
     * One thread of the bundle that is being stopped: well-formed sequences on a shared buffer and on buffers of its
     * own. A call either completes (and what it took is reclaimed) or fails with ENODEV (the bundle stopped, or its
     * own buffer was revoked by the stop); once the stop has returned, every call fails with ENODEV.
     */
    private static long victimLoop(DmaBufRegistry reg, DmaBuf shared, List<Tracked> own,
            Map<Tracked, DmaBuf> ownBufs, SplittableRandom rnd, int index, AtomicBoolean closed,
            AtomicLong victimOps, long deadline, Map<Errno, LongAdder> racing, List<String> problems) {
        Device device = Device.of("victim-dev-" + index);
        long n = 0;
        while (System.nanoTime() < deadline) { // the loop normally ends at the first ENODEV after the stop
            boolean afterClose = closed.get();
            // now and then a buffer of its own, used without CPU views: releasing a buffer that had views closes
            // a shared arena, a global handshake that would dominate the run and hide the race looked for here
            int op = rnd.nextInt(30) == 0 ? 6 : rnd.nextInt(6);
            try {
                DmaBuf buf = shared;
                if (op == 6) {
                    Tracked t = new Tracked(2L * PAGE, false);
                    buf = reg.export(ExportInfo.builder(t, 2L * PAGE).build());
                    own.add(t);
                    ownBufs.put(t, buf);
                    op = rnd.nextBoolean() ? 0 : 2;
                } else {
                    reg.get(buf);
                }
                if (afterClose) {
                    problems.add("a call made after the stop returned succeeded (op " + op + ")");
                    return n;
                }
                switch (op) {
                    case 0 -> {
                        reg.get(buf);
                        reg.put(buf);
                    }
                    case 1 -> reg.vunmap(buf, reg.vmap(buf));
                    case 2 -> {
                        DmaBufAttachment a = reg.attach(buf, device);
                        SgTable t = reg.mapAttachment(a, DmaDataDirection.TO_DEVICE);
                        if (rnd.nextBoolean()) {
                            reg.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE);
                        }
                        reg.detach(a);
                    }
                    case 3 -> {
                        reg.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
                        boolean atomic = rnd.nextBoolean();
                        MemorySegment p = atomic ? reg.kmapAtomic(buf, 0) : reg.kmap(buf, 0);
                        if (atomic) {
                            reg.kunmapAtomic(buf, 0, p);
                        } else {
                            reg.kunmap(buf, 0, p);
                        }
                        reg.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
                    }
                    case 4 -> {
                        int fd = reg.fd(reg.get(buf), DmaBufUapi.O_RDWR);
                        DmaBufMapping m = reg.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ);
                        m.close();
                        reg.close(fd);
                    }
                    default -> {
                        DmaBufMapping m = reg.mmap(buf, new VmArea(1, PAGE, DmaBufUapi.PROT_READ));
                        m.close();
                    }
                }
                reg.put(buf);
            } catch (DmaBufException e) {
                racing.computeIfAbsent(e.errno(), k -> new LongAdder()).increment();
                if (e.errno() != Errno.ENODEV) {
                    problems.add("op " + op + " of a stopping bundle failed with " + e.getMessage());
                    return n;
                }
                if (afterClose) {
                    return n; // the expected end: the stopped bundle is refused
                }
            } catch (RuntimeException | Error e) {
                problems.add("op " + op + " of a stopping bundle threw " + e);
                return n;
            }
            victimOps.incrementAndGet();
            n++;
        }
        if (!closed.get()) {
            problems.add("the round ended before the bundle was stopped");
        }
        return n;
    }

    // ---- harness ------------------------------------------------------------------------------------------------

    /** A worker of a single-phase scenario: runs until the deadline and returns how many operations it did. */
    @FunctionalInterface
    private interface Worker {
        long run(int index, SplittableRandom rnd, long deadlineNanos) throws Exception;
    }

    /** Runs {@code threads} workers released together by a barrier; returns the operations they did. */
    private long run(String scenario, int threads, Worker worker, Supplier<String> notes) throws Exception {
        pool = newPool(scenario.substring(0, 1), threads);
        AtomicLong deadline = new AtomicLong();
        CyclicBarrier start = new CyclicBarrier(threads,
                () -> deadline.set(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RUN_MILLIS)));
        List<Future<Long>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int index = t;
            futures.add(pool.submit(() -> {
                start.await(30, TimeUnit.SECONDS);
                return worker.run(index, new SplittableRandom(seed + index), deadline.get());
            }));
        }
        long started = System.nanoTime();
        long ops = await(scenario, futures, started + TimeUnit.MILLISECONDS.toNanos(RUN_MILLIS), notes);
        report(scenario, threads, System.nanoTime() - started, ops, notes.get());
        return ops;
    }

    /** Waits for every future with a bound; a stuck worker fails with every thread's stack. */
    private long await(String scenario, List<Future<Long>> futures, long deadlineNanos, Supplier<String> context)
            throws InterruptedException {
        long total = 0;
        long bound = deadlineNanos + TimeUnit.MILLISECONDS.toNanos(STUCK_MILLIS);
        for (Future<Long> f : futures) {
            try {
                total += f.get(Math.max(1, bound - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException stuck) {
                fail(scenario + ": a worker is stuck " + STUCK_MILLIS + " ms past the deadline (seed " + seed + ", "
                        + context.get() + ")\n" + threadDump());
            } catch (ExecutionException failed) {
                futures.forEach(other -> other.cancel(true));
                throw new AssertionError(scenario + " failed (seed " + seed + ", " + context.get() + "): "
                        + failed.getCause(), failed.getCause());
            }
        }
        return total;
    }

    private static ExecutorService newPool(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "stress-" + name + "-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        };
        return Executors.newFixedThreadPool(threads, factory);
    }

    private static String threadDump() {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            Thread t = e.getKey();
            sb.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
            for (StackTraceElement frame : e.getValue()) {
                sb.append("\tat ").append(frame).append('\n');
            }
        }
        return sb.toString();
    }

    private void report(String scenario, int threads, long nanos, long ops, String notes) {
        long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
        REPORT.add(String.format("%s | %d | %d | %d | %d | seed %d; %s", scenario, threads, ms, ops,
                ms == 0 ? 0 : ops * 1000 / ms, seed, notes));
    }

    /** Fails unless the error has one of the errnos; returns the errno. */
    private static Errno expect(DmaBufException e, String what, Errno... allowed) {
        if (!Arrays.asList(allowed).contains(e.errno())) {
            throw new AssertionError(what + " failed with " + e.getMessage() + "; only " + Arrays.toString(allowed)
                    + " are expected here", e);
        }
        return e.errno();
    }

    private static BufferDTO dtoOf(RuntimeDTO dto, DmaBuf buf) {
        return Arrays.stream(dto.buffers).filter(b -> b.id == buf.id()).findFirst()
                .orElseThrow(() -> new AssertionError(buf + " is not in the runtime DTO"));
    }

    // ---- exporters ----------------------------------------------------------------------------------------------

    /** A test exporter that also notices any op the core makes after release, and can ask for table caching. */
    static class Tracked extends TestExporter {
        final long size;
        final boolean caching;
        final AtomicBoolean released = new AtomicBoolean();
        final List<String> afterRelease = new CopyOnWriteArrayList<>();

        Tracked(long size, boolean caching) {
            super(size);
            this.size = size;
            this.caching = caching;
        }

        void check(String op) {
            if (released.get()) {
                afterRelease.add(op + " on thread " + Thread.currentThread().getName());
            }
        }

        @Override
        public boolean cacheSgtMapping() {
            return caching;
        }

        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            check("map");
            return super.map(attachment, direction);
        }

        @Override
        public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
            check("unmap");
            super.unmap(attachment, table, direction);
        }

        @Override
        public void release(DmaBuf dmaBuf) {
            if (!released.compareAndSet(false, true)) {
                afterRelease.add("second release on thread " + Thread.currentThread().getName());
            }
            super.release(dmaBuf);
        }

        @Override
        public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
            check("attach");
            super.attach(dmaBuf, attachment);
        }

        @Override
        public void detach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
            check("detach");
            super.detach(dmaBuf, attachment);
        }

        @Override
        public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
            check("begin");
            super.beginCpuAccess(dmaBuf, direction, offset, length);
        }

        @Override
        public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
            check("end");
            super.endCpuAccess(dmaBuf, direction, offset, length);
        }

        @Override
        public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
            check("kmap");
            return super.kmap(dmaBuf, pageIndex);
        }

        @Override
        public void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
            check("kunmap");
            super.kunmap(dmaBuf, pageIndex, page);
        }

        @Override
        public MemorySegment kmapAtomic(DmaBuf dmaBuf, long pageIndex) {
            check("kmapAtomic");
            return super.kmapAtomic(dmaBuf, pageIndex);
        }

        @Override
        public void kunmapAtomic(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
            check("kunmapAtomic");
            super.kunmapAtomic(dmaBuf, pageIndex, page);
        }

        @Override
        public MemorySegment vmap(DmaBuf dmaBuf) {
            check("vmap");
            return super.vmap(dmaBuf);
        }

        @Override
        public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
            check("vunmap");
            super.vunmap(dmaBuf, map);
        }

        @Override
        public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
            check("mmap");
            return super.mmap(dmaBuf, vma);
        }

        /** Exporter-side counts that pair up; with {@code cpu} also the CPU-access and kmap pairs. */
        void assertBalanced(boolean cpu) {
            Map<String, Integer> counts = new TreeMap<>();
            for (Map.Entry<String, AtomicInteger> e : calls.entrySet()) {
                counts.put(e.getKey(), e.getValue().get());
            }
            String all = counts.toString();
            assertEquals(count("vmap"), count("vunmap"), () -> "vmap/vunmap: " + all);
            assertEquals(count("map"), count("unmap"), () -> "map/unmap: " + all);
            assertEquals(count("attach"), count("detach"), () -> "attach/detach: " + all);
            assertEquals(count("pin"), count("unpin"), () -> "pin/unpin: " + all);
            if (cpu) {
                assertEquals(count("begin"), count("end"), () -> "begin/end: " + all);
                assertEquals(count("kmap"), count("kunmap"), () -> "kmap/kunmap: " + all);
                assertEquals(count("kmapAtomic"), count("kunmapAtomic"), () -> "kmapAtomic/kunmapAtomic: " + all);
            }
        }

        void assertNoOpAfterRelease() {
            assertTrue(afterRelease.isEmpty(), () -> "exporter ops after release: " + afterRelease);
        }
    }

    /** {@link Tracked} with pin and unpin: a dynamic exporter. */
    static class TrackedDynamic extends Tracked {
        TrackedDynamic(long size) {
            super(size, false);
        }

        @Override
        public void pin(DmaBufAttachment attachment) {
            check("pin");
            called("pin");
        }

        @Override
        public void unpin(DmaBufAttachment attachment) {
            check("unpin");
            called("unpin");
        }
    }

    /** Mandatory ops only and no storage, for exporting many buffers: counts releases, and second releases. */
    private static final class CountingOps implements DmaBufOps {
        private final AtomicLong releases;
        private final AtomicLong doubleReleases;
        private final AtomicBoolean released = new AtomicBoolean();

        CountingOps(AtomicLong releases, AtomicLong doubleReleases) {
            this.releases = releases;
            this.doubleReleases = doubleReleases;
        }

        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            return SgTable.contiguous(1 << 20, PAGE);
        }

        @Override
        public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        }

        @Override
        public void release(DmaBuf dmaBuf) {
            if (released.compareAndSet(false, true)) {
                releases.incrementAndGet();
            } else {
                doubleReleases.incrementAndGet();
            }
        }
    }
}
