package dmabuf.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.opentest4j.AssertionFailedError;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.FdInfo;
import dmabuf.api.SgTable;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreFixture;
import dmabuf.core.LeakReportLevel;
import dmabuf.core.TestExporter;
import dmabuf.core.attach.Attachment;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;
import dmabuf.core.client.Holding;
import dmabuf.core.file.OpenFile;
import dmabuf.core.model.Model.MAtt;
import dmabuf.core.model.Model.MBuf;
import dmabuf.core.model.Model.MBundle;
import dmabuf.core.model.Model.MMapping;
import dmabuf.core.model.Model.MTable;
import dmabuf.core.model.Model.Seg;

/**
 * One run of a sequence: a fresh core ({@code CoreFixture} with the model's fd limit) used by three bundles, the
 * reference model, and the handles the core returned, indexed like the model's objects. Every operation runs on
 * both; the outcomes (errno or result) must agree, and then {@link #checkAll()} compares everything observable.
 */
final class World {
    /** Storage of every pooled test exporter: enough for the largest size the sequences export (5 pages). */
    static final long STORAGE = 5L * DmaBufUapi.PAGE_SIZE;
    private static final long LOCK_WAIT_MS = 2000;

    /** The world of the previous sequence, shut down (and its exporters recycled) when the next one starts. */
    private static World previous;

    final CoreFixture fx;
    final Model model = new Model();
    final DmaBufRegistry[] regs = new DmaBufRegistry[3];
    final Client[] clients = new Client[3];

    /** By MBuf.index. */
    final List<DmaBuf> bufs = new ArrayList<>();
    final List<DmaBufOps> ops = new ArrayList<>();
    /** By MAtt.index. */
    final List<DmaBufAttachment> atts = new ArrayList<>();
    final List<CountingImporter> importers = new ArrayList<>();
    /** By MTable.index. */
    final List<SgTable> tables = new ArrayList<>();
    /** By MMapping.index. */
    final List<DmaBufMapping> mappings = new ArrayList<>();
    /** Every CPU view handed out, with what the model knows about it. */
    final List<SegRec> segs = new ArrayList<>();
    /** The kmaps handed out. */
    final List<KmapRec> kmaps = new ArrayList<>();
    /** A segment the core never handed out. */
    final MemorySegment foreign = MemorySegment.ofArray(new byte[DmaBufUapi.PAGE_SIZE]);
    /** What ran so far, resolved (which buffer, which fd, what came back), for failure messages. */
    final List<String> history = new ArrayList<>();

    /** A CPU view; {@code checkedState}: the buffer state at which its usability was last checked. */
    static final class SegRec {
        final String kind;
        final Seg seg;
        final MemorySegment segment;
        Model.BufState checkedState;

        SegRec(String kind, Seg seg, MemorySegment segment) {
            this.kind = kind;
            this.seg = seg;
            this.segment = segment;
        }
    }

    /** A kmap handed out; {@code unmapped[0]}: undone through this record. */
    record KmapRec(MBundle bundle, MBuf buf, long page, boolean atomic, SegRec seg, boolean[] unmapped) {
        KmapRec(MBundle bundle, MBuf buf, long page, boolean atomic, SegRec seg) {
            this(bundle, buf, page, atomic, seg, new boolean[1]);
        }
    }

    /** What the model and the core said. */
    record Outcome<M, C>(M model, C core, Errno errno) {
        boolean ok() {
            return errno == null;
        }
    }

    /** A dynamic importer that counts invalidateMappings calls. */
    static final class CountingImporter implements DmaBufImporterOps {
        int calls;

        @Override
        public void invalidateMappings(DmaBufAttachment attachment) {
            calls++;
        }
    }

    private World() {
        // every buffer tracked for drops without put (sampling interval 1); SIMPLE skips the export-site stacks,
        // which would more than double the run; -Ddmabuf.model.leak.level=PARANOID records them too
        fx = new CoreFixture(CoreConfig.DEFAULTS.withFdLimit(Model.FD_LIMIT).withLeakSamplingInterval(1)
                .withLeakReportLevel(LeakReportLevel.valueOf(System.getProperty("dmabuf.model.leak.level",
                        "SIMPLE"))));
        fx.registerExporter(1, Model.EXPORTER_SERVICE);
        regs[0] = fx.exp;
        regs[1] = fx.imp;
        regs[2] = fx.bundle(30, "third.bundle");
        clients[0] = fx.expClient;
        clients[1] = fx.impClient;
        clients[2] = fx.core.clients().stream().filter(c -> c.bundleId() == 30).findFirst().orElseThrow();
    }

    /** A fresh world; the previous one is shut down first so that its exporters can be reused. */
    static World create() {
        retirePrevious();
        World w = new World();
        previous = w;
        ModelStats.sequenceStarted();
        return w;
    }

    /** Shuts the last world's core down and recycles the exporters whose release ran. */
    static void retirePrevious() {
        World w = previous;
        previous = null;
        if (w == null) {
            return;
        }
        try {
            w.fx.core.shutdown();
        } catch (RuntimeException e) {
            return; // a broken core: reuse nothing of it
        }
        for (int i = 0; i < w.ops.size(); i++) {
            if (w.ops.get(i) instanceof TestExporter t && t.count("release") == 1) {
                ExporterPool.giveBack(w.model.bufs.get(i).kind, t);
            }
        }
    }

    // ---- running operations -------------------------------------------------------------------------------------

    /** Runs one operation on both sides and compares everything afterwards. */
    void run(Op op) {
        try {
            op.apply(this);
            ModelStats.operationRun();
            checkAll();
        } catch (AssertionFailedError e) {
            // the same exception type: the minimizer keeps only sequences that fail the same way
            String message = e.getMessage() + "\n  after this sequence (with the core's outcomes):\n    "
                    + String.join("\n    ", history);
            throw e.isExpectedDefined() && e.isActualDefined()
                    ? new AssertionFailedError(message, e.getExpected().getValue(), e.getActual().getValue(), e)
                    : new AssertionFailedError(message, e);
        }
    }

    /** Runs the model's prediction and the core's call, and fails unless both agree on the errno (or success). */
    <M, C> Outcome<M, C> expect(String opName, String call, Supplier<M> modelCall, Supplier<C> coreCall) {
        Errno predicted = null;
        String why = null;
        M m = null;
        try {
            m = modelCall.get();
        } catch (Model.Fail f) {
            predicted = f.errno;
            why = f.getMessage();
        }
        Errno actual = null;
        String message = null;
        C c = null;
        try {
            c = coreCall.get();
        } catch (DmaBufException e) {
            actual = e.errno();
            message = e.getMessage();
        }
        ModelStats.outcome(opName, actual);
        history.add(call + " -> " + (actual == null ? "ok" : actual.name())
                + (predicted == actual ? "" : "   <-- the model predicts " + (predicted == null ? "ok" : why)));
        if (predicted != actual) {
            fail(call + ": the model predicts " + (predicted == null ? "success" : why) + ", but the core "
                    + (actual == null ? "succeeded" : "refused with " + actual + " (" + message + ")"));
        }
        return new Outcome<>(m, c, actual);
    }

    private void skipped(String opName) {
        history.add(opName + ": nothing to pick, skipped");
        ModelStats.outcome(opName, null, true);
    }

    MBundle bundle(int index) {
        return model.bundles.get(index);
    }

    /**
     * The buffer a selector picks, or null when nothing was exported yet: 0..15 among the buffers not released (if
     * any), 16 and above among all of them.
     */
    MBuf pickBuf(int selector) {
        if (model.bufs.isEmpty()) {
            return null;
        }
        if (selector < 16) {
            List<MBuf> alive = model.bufs.stream().filter(b -> b.state != Model.BufState.RELEASED).toList();
            if (!alive.isEmpty()) {
                return alive.get(selector % alive.size());
            }
        }
        return model.bufs.get(selector % model.bufs.size());
    }

    /** A bundle and a buffer. */
    record Pick(int bundle, MBuf buf) {
    }

    /**
     * A bundle and a buffer where the operation can do something: bundle -1 is any bundle still open; a buffer
     * selector below 16 picks among the (bundle, buffer) pairs not released that satisfy {@code relevant}, falling back
     * to {@link #pickBuf} when there is none. Null when nothing was exported yet.
     */
    Pick pickFor(int bundleSel, int bufSel, BiPredicate<MBundle, MBuf> relevant) {
        if (model.bufs.isEmpty()) {
            return null;
        }
        List<MBundle> bundles = bundleSel >= 0 ? List.of(bundle(bundleSel))
                : model.bundles.stream().filter(c -> !c.closed).toList();
        int fallbackBundle = bundleSel >= 0 ? bundleSel : bundles.isEmpty() ? 0 : bundles.getFirst().index;
        if (bufSel < 16) {
            List<Pick> candidates = new ArrayList<>();
            for (MBundle c : bundles) {
                for (MBuf b : model.bufs) {
                    if (b.state != Model.BufState.RELEASED && relevant.test(c, b)) {
                        candidates.add(new Pick(c.index, b));
                    }
                }
            }
            if (!candidates.isEmpty()) {
                return candidates.get(bufSel % candidates.size());
            }
        }
        return new Pick(fallbackBundle, pickBuf(bufSel));
    }

    static boolean holdsRef(MBundle c, MBuf b) {
        Model.MHold h = c.holdings.get(b);
        return h != null && h.refs > 0;
    }

    static boolean hasBracket(MBundle c, MBuf b) {
        Model.MHold h = c.holdings.get(b);
        return h != null && !h.brackets.isEmpty();
    }

    static boolean holdsVmap(MBundle c, MBuf b) {
        Model.MHold h = c.holdings.get(b);
        return h != null && h.vmaps > 0;
    }

    /** A bundle and an fd. */
    record FdPick(int bundle, int fd) {
    }

    /**
     * The fd a selector picks: k >= 0 the k-th open fd (modulo; fd 0 when none is open), -1 fd -1, -2 an fd number
     * above the limit, -3 the lowest fd that is not open. Bundle -1: any bundle still open (with k >= 0: among the
     * open fds of all of them).
     */
    FdPick pickFd(int bundleSel, int selector) {
        List<MBundle> bundles = bundleSel >= 0 ? List.of(bundle(bundleSel))
                : model.bundles.stream().filter(c -> !c.closed).toList();
        MBundle first = bundles.isEmpty() ? bundle(0) : bundles.getFirst();
        if (selector >= 0) {
            List<FdPick> open = new ArrayList<>();
            for (MBundle c : bundles) {
                for (int fd : c.fds.keySet()) {
                    open.add(new FdPick(c.index, fd));
                }
            }
            return open.isEmpty() ? new FdPick(first.index, 0) : open.get(selector % open.size());
        }
        return switch (selector) {
            case -1 -> new FdPick(first.index, -1);
            case -2 -> new FdPick(first.index, Model.FD_LIMIT + 1);
            default -> {
                int fd = 0;
                while (first.fds.containsKey(fd)) {
                    fd++;
                }
                yield new FdPick(first.index, fd);
            }
        };
    }

    /** The DmaBuf export returned, which every later get hands back while it is reachable (as the world keeps it). */
    DmaBuf api(MBuf b) {
        return bufs.get(b.index);
    }

    Buffer handle(MBuf b) {
        return CoreFixture.raw(bufs.get(b.index));
    }

    // ---- the operations -----------------------------------------------------------------------------------------

    void export(int bundle, long size, int flags, Model.Kind kind, String exporter, String name) {
        MBundle c = bundle(bundle);
        DmaBufOps exporterOps = ExporterPool.take(kind);
        String call = c + ".export(size " + size + ", flags " + flags + ", " + kind
                + (exporter == null ? "" : ", exporter " + exporter) + (name == null ? "" : ", name " + name) + ")";
        Outcome<MBuf, DmaBuf> r = expect("export", call, () -> model.export(c, size, flags, kind, exporter, name),
                () -> regs[bundle].export(ExportInfo.builder(exporterOps, size).flags(flags).exporter(exporter)
                        .name(name).build()));
        if (!r.ok()) {
            ExporterPool.giveBack(kind, exporterOps); // the core never called it
            return;
        }
        DmaBuf b = r.core();
        note(" " + r.model());
        assertEquals(r.model().id, b.id(), call + ": id");
        assertEquals(size, b.size(), call + ": size");
        assertEquals(r.model().exporterName, b.exporterName(), call + ": exporter name");
        assertEquals(r.model().name, b.name().orElse(null), call + ": name");
        bufs.add(b);
        ops.add(exporterOps);
    }

    /** Appends to the last history line. */
    private void note(String text) {
        history.set(history.size() - 1, history.getLast() + text);
    }

    void fd(int bundleSel, int bufSel, int flags) {
        Pick p = pickFor(bundleSel, bufSel, World::holdsRef);
        if (p == null) {
            skipped("fd");
            return;
        }
        MBundle c = bundle(p.bundle);
        MBuf m = p.buf;
        String call = c + ".fd(" + m + ", flags " + flags + ")";
        Outcome<Integer, Integer> r = expect("fd", call, () -> model.fd(c, m, flags),
                () -> regs[p.bundle].fd(handle(m), flags));
        if (r.ok()) {
            note(" " + r.core());
            assertEquals(r.model(), r.core(), call + ": the lowest free fd");
        }
    }

    void getFd(int bundleSel, int fdSel) {
        FdPick p = pickFd(bundleSel, fdSel);
        MBundle c = bundle(p.bundle);
        String call = c + ".get(fd " + p.fd + ")";
        Outcome<MBuf, DmaBuf> r = expect("get(fd)", call, () -> model.get(c, p.fd), () -> regs[p.bundle].get(p.fd));
        if (r.ok()) {
            note(" " + r.model());
            assertSame(api(r.model()), r.core(), call + ": the fd's buffer");
        }
    }

    void getBuf(int bundle, int bufSel) {
        MBuf m = pickBuf(bufSel);
        if (m == null) {
            skipped("get(buf)");
            return;
        }
        MBundle c = bundle(bundle);
        String call = c + ".get(" + m + ")";
        Outcome<Object, DmaBuf> r = expect("get(buf)", call, () -> {
            model.get(c, m);
            return null;
        }, () -> regs[bundle].get(handle(m)));
        if (r.ok()) {
            assertSame(api(m), r.core(), call + ": the same buffer");
        }
    }

    void put(int bundleSel, int bufSel) {
        Pick p = pickFor(bundleSel, bufSel, World::holdsRef);
        if (p == null) {
            skipped("put");
            return;
        }
        MBundle c = bundle(p.bundle);
        expect("put", c + ".put(" + p.buf + ")", () -> {
            model.put(c, p.buf);
            return null;
        }, () -> {
            regs[p.bundle].put(handle(p.buf));
            return null;
        });
    }

    void dup(int bundleSel, int fdSel) {
        FdPick p = pickFd(bundleSel, fdSel);
        MBundle c = bundle(p.bundle);
        String call = c + ".dup(" + p.fd + ")";
        Outcome<Integer, Integer> r = expect("dup", call, () -> model.dup(c, p.fd), () -> regs[p.bundle].dup(p.fd));
        if (r.ok()) {
            note(" " + r.core());
            assertEquals(r.model(), r.core(), call + ": the lowest free fd");
        }
    }

    void close(int bundleSel, int fdSel) {
        FdPick p = pickFd(bundleSel, fdSel);
        MBundle c = bundle(p.bundle);
        expect("close", c + ".close(" + p.fd + ")", () -> {
            model.close(c, p.fd);
            return null;
        }, () -> {
            regs[p.bundle].close(p.fd);
            return null;
        });
    }

    /** @param bundleSel -1: the buffer's owner */
    void revoke(int bundleSel, int bufSel) {
        MBuf m = pickBuf(bufSel);
        if (m == null) {
            skipped("revoke");
            return;
        }
        int bundle = bundleSel < 0 ? m.owner.index : bundleSel;
        MBundle c = bundle(bundle);
        expect("revoke", c + ".revoke(" + m + ")", () -> {
            model.revoke(c, m);
            return null;
        }, () -> {
            regs[bundle].revoke(handle(m));
            return null;
        });
    }

    /** @param bundleSel -1: the buffer's owner */
    void invalidateMappings(int bundleSel, int bufSel) {
        MBuf m = pickBuf(bufSel);
        if (m == null) {
            skipped("invalidateMappings");
            return;
        }
        int bundle = bundleSel < 0 ? m.owner.index : bundleSel;
        MBundle c = bundle(bundle);
        expect("invalidateMappings", c + ".invalidateMappings(" + m + ")", () -> {
            model.invalidateMappings(c, m);
            return null;
        }, () -> {
            regs[bundle].invalidateMappings(handle(m));
            return null;
        });
    }

    void attach(int bundle, int bufSel, boolean dynamic, boolean onePageDevice) {
        MBuf m = pickBuf(bufSel);
        if (m == null) {
            skipped("attach");
            return;
        }
        MBundle c = bundle(bundle);
        Device device = onePageDevice ? Device.of("onepage").withSegmentLimits(DmaBufUapi.PAGE_SIZE, 1)
                : Device.of("gpu");
        CountingImporter importer = dynamic ? new CountingImporter() : null;
        String call = c + "." + (dynamic ? "dynamicAttach" : "attach") + "(" + m + ", " + device.name() + ")";
        Outcome<MAtt, DmaBufAttachment> r = expect("attach", call,
                () -> model.attach(c, m, dynamic, onePageDevice),
                () -> dynamic ? regs[bundle].dynamicAttach(handle(m), device, importer)
                        : regs[bundle].attach(handle(m), device));
        if (r.ok()) {
            note(" " + r.model());
            assertEquals(r.model().index, atts.size());
            assertSame(api(m), r.core().dmaBuf(), call + ": the attachment's buffer");
            assertEquals(dynamic, r.core().isDynamic(), call + ": dynamic");
            atts.add(r.core());
            importers.add(importer);
        }
    }

    /** @param bundleSel -1: the attachment's own bundle, else that bundle */
    private static int attBundle(MAtt a, int bundleSel) {
        return bundleSel < 0 ? a.bundle.index : bundleSel;
    }

    /** 0..15: among the attachments not detached (counted from the newest), else among all. */
    private MAtt pickAtt(int selector) {
        if (model.atts.isEmpty()) {
            return null;
        }
        if (selector < 16) {
            List<MAtt> open = model.atts.stream().filter(a -> a.state != Model.AttState.DETACHED).toList();
            if (!open.isEmpty()) {
                return open.get(open.size() - 1 - selector % open.size());
            }
        }
        return model.atts.get(model.atts.size() - 1 - selector % model.atts.size());
    }

    void detach(int bundleSel, int attSel) {
        MAtt a = pickAtt(attSel);
        if (a == null) {
            skipped("detach");
            return;
        }
        int bundle = attBundle(a, bundleSel);
        MBundle c = bundle(bundle);
        expect("detach", c + ".detach(" + a + ")", () -> {
            model.detach(c, a);
            return null;
        }, () -> {
            regs[bundle].detach(atts.get(a.index));
            return null;
        });
    }

    void map(int bundleSel, int attSel, DmaDataDirection dir) {
        MAtt a = pickAtt(attSel);
        if (a == null) {
            skipped("mapAttachment");
            return;
        }
        int bundle = attBundle(a, bundleSel);
        MBundle c = bundle(bundle);
        String call = c + ".mapAttachment(" + a + ", " + dir + ")";
        Outcome<MTable, SgTable> r = expect("mapAttachment", call, () -> model.map(c, a, dir),
                () -> regs[bundle].mapAttachment(atts.get(a.index), dir));
        if (r.ok()) {
            note(" table#" + r.model().index);
            if (r.model().index < tables.size()) {
                assertSame(tables.get(r.model().index), r.core(), call + ": the cached table");
            } else {
                assertEquals(r.model().index, tables.size());
                assertTrue(tables.stream().noneMatch(t -> t == r.core()), call + ": a new table");
                tables.add(r.core());
            }
        }
    }

    /**
     * @param bundleSel -1: the attachment's bundle
     * @param attSel    -1: the table's own attachment, else an attachment by selector
     * @param tableSel  0..15: a table still mapped (counted from the newest; any table if none is), 16..: any table
     *                  the core returned, -1: a table it never returned
     */
    void unmap(int bundleSel, int attSel, int tableSel, DmaDataDirection dir) {
        MTable t = null;
        if (tableSel >= 0 && !model.tables.isEmpty()) {
            List<MTable> mapped = model.tables.stream().filter(x -> x.att.tables.contains(x)).toList();
            List<MTable> from = tableSel < 16 && !mapped.isEmpty() ? mapped : model.tables;
            t = from.get(from.size() - 1 - tableSel % from.size());
        }
        MTable table = t;
        MAtt a = attSel < 0 && t != null ? t.att : pickAtt(Math.max(0, attSel));
        if (a == null) {
            skipped("unmapAttachment");
            return;
        }
        int bundle = attBundle(a, bundleSel);
        MBundle c = bundle(bundle);
        SgTable sg = t == null ? SgTable.contiguous(0x4000_0000L, DmaBufUapi.PAGE_SIZE) : tables.get(t.index);
        expect("unmapAttachment", c + ".unmapAttachment(" + a + ", " + (t == null ? "a foreign table"
                : "table#" + t.index) + ", " + dir + ")", () -> {
                    model.unmap(c, a, table, dir);
                    return null;
                }, () -> {
                    regs[bundle].unmapAttachment(atts.get(a.index), sg, dir);
                    return null;
                });
    }

    /** The CPU-access ranges the sequences use; null: the whole-buffer overload. */
    static long[] range(int selector, long size) {
        return switch (selector) {
            case 0 -> null;
            case 1 -> new long[] {0, size};
            case 2 -> new long[] {0, Math.min(DmaBufUapi.PAGE_SIZE, size)};
            case 3 -> new long[] {DmaBufUapi.PAGE_SIZE, DmaBufUapi.PAGE_SIZE};
            case 4 -> new long[] {size - 1, 1};
            case 5 -> new long[] {100, 50};
            case 6 -> new long[] {0, 0};
            case 7 -> new long[] {-1, 10};
            case 8 -> new long[] {size - 1, 2};
            default -> new long[] {0, size + 1};
        };
    }

    void begin(int bundle, int bufSel, DmaDataDirection dir, int rangeSel) {
        MBuf m = pickBuf(bufSel);
        if (m == null) {
            skipped("beginCpuAccess");
            return;
        }
        cpuAccess(true, bundle, m, dir, range(rangeSel, m.size));
    }

    /**
     * @param bundleSel  -1: a bundle with an open bracket
     * @param bracketSel >= 0: end one of the bundle's open brackets of that buffer (counted from the newest) with its
     *                   direction and range; -1: with {@code dir} and {@code rangeSel}
     */
    void end(int bundleSel, int bufSel, int bracketSel, DmaDataDirection dir, int rangeSel) {
        Pick p = pickFor(bundleSel, bufSel, World::hasBracket);
        if (p == null) {
            skipped("endCpuAccess");
            return;
        }
        Model.MHold h = bundle(p.bundle).holdings.get(p.buf);
        if (bracketSel >= 0 && h != null && !h.brackets.isEmpty()) {
            Model.Bracket br = h.brackets.get(h.brackets.size() - 1 - bracketSel % h.brackets.size());
            boolean whole = br.offset() == 0 && br.length() == p.buf.size;
            cpuAccess(false, p.bundle, p.buf, br.dir(), whole ? null : new long[] {br.offset(), br.length()});
        } else {
            cpuAccess(false, p.bundle, p.buf, dir, range(rangeSel, p.buf.size));
        }
    }

    private void cpuAccess(boolean begin, int bundle, MBuf m, DmaDataDirection dir, long[] range) {
        String opName = begin ? "beginCpuAccess" : "endCpuAccess";
        MBundle c = bundle(bundle);
        long offset = range == null ? 0 : range[0];
        long length = range == null ? m.size : range[1];
        DmaBufRegistry reg = regs[bundle];
        Buffer b = handle(m);
        expect(opName, c + "." + opName + "(" + m + ", " + dir + (range == null ? "" : ", " + offset + ", " + length)
                + ")", () -> {
                    if (begin) {
                        model.begin(c, m, dir, offset, length);
                    } else {
                        model.end(c, m, dir, offset, length);
                    }
                    return null;
                }, () -> {
                    if (range == null && begin) {
                        reg.beginCpuAccess(b, dir);
                    } else if (range == null) {
                        reg.endCpuAccess(b, dir);
                    } else if (begin) {
                        reg.beginCpuAccess(b, dir, offset, length);
                    } else {
                        reg.endCpuAccess(b, dir, offset, length);
                    }
                    return null;
                });
    }

    /** @param bundleSel -1: a bundle with an open bracket */
    void kmap(int bundleSel, int bufSel, long page, boolean atomic) {
        String opName = atomic ? "kmapAtomic" : "kmap";
        Pick p = pickFor(bundleSel, bufSel, World::hasBracket);
        if (p == null) {
            skipped(opName);
            return;
        }
        MBundle c = bundle(p.bundle);
        MBuf m = p.buf;
        String call = c + "." + opName + "(" + m + ", page " + page + ")";
        Outcome<Object, MemorySegment> r = expect(opName, call, () -> {
            model.kmap(c, m, page, atomic);
            return null;
        }, () -> atomic ? regs[p.bundle].kmapAtomic(handle(m), page) : regs[p.bundle].kmap(handle(m), page));
        if (r.ok()) {
            long offset = page * DmaBufUapi.PAGE_SIZE;
            long length = Math.min(DmaBufUapi.PAGE_SIZE, m.size - offset);
            assertEquals(length, r.core().byteSize(), call + ": the page's length");
            SegRec seg = new SegRec(opName, new Seg(m, offset, length), r.core());
            segs.add(seg);
            kmaps.add(new KmapRec(c, m, page, atomic, seg));
            note(" kmap#" + (kmaps.size() - 1) + ", view #" + (segs.size() - 1));
        }
    }

    /**
     * @param bundleSel -1: the bundle that kmapped
     * @param kmapSel   which kmap, counted from the newest: 0..15 among those not unmapped yet (if any), 16.. all
     * @param variant   0 as returned; 1 the next page; 2 the other unmap (atomic or not); 3 another view (by
     *                  selector); 4 a foreign segment
     */
    void kunmap(int bundleSel, int kmapSel, int variant) {
        if (kmaps.isEmpty()) {
            skipped("kunmap");
            return;
        }
        List<KmapRec> held = kmaps.stream().filter(k -> !k.unmapped[0] && !k.bundle.closed
                && k.buf.state != Model.BufState.RELEASED).toList();
        List<KmapRec> from = kmapSel < 16 && !held.isEmpty() ? held : kmaps;
        KmapRec k = from.get(from.size() - 1 - kmapSel % from.size());
        int bundle = bundleSel < 0 ? k.bundle.index : bundleSel;
        MBundle c = bundle(bundle);
        long page = variant == 1 ? k.page + 1 : k.page;
        boolean atomic = variant == 2 ? !k.atomic : k.atomic;
        SegRec seg = switch (variant) {
            case 3 -> segs.get((kmapSel * 7 + 3) % segs.size());
            case 4 -> new SegRec("foreign", Seg.FOREIGN, foreign);
            default -> k.seg;
        };
        String opName = atomic ? "kunmapAtomic" : "kunmap";
        Buffer b = handle(k.buf);
        Outcome<Object, Object> r = expect(opName, c + "." + opName + "(" + k.buf + ", page " + page + ", "
                + describe(seg) + ")", () -> {
                    model.kunmap(c, k.buf, page, seg.seg, atomic);
                    return null;
                }, () -> {
                    if (atomic) {
                        regs[bundle].kunmapAtomic(b, page, seg.segment);
                    } else {
                        regs[bundle].kunmap(b, page, seg.segment);
                    }
                    return null;
                });
        if (r.ok() && variant == 0 && bundle == k.bundle.index) {
            k.unmapped[0] = true;
        }
    }

    private String describe(SegRec s) {
        return s.seg.buf() == null ? "a foreign segment"
                : "the " + s.kind + " view #" + segs.indexOf(s) + " of " + s.seg.buf() + " [" + s.seg.offset() + ", +"
                        + s.seg.length() + ")";
    }

    void vmap(int bundle, int bufSel) {
        MBuf m = pickBuf(bufSel);
        if (m == null) {
            skipped("vmap");
            return;
        }
        MBundle c = bundle(bundle);
        String call = c + ".vmap(" + m + ")";
        long before = m.vmapCount;
        Outcome<Object, MemorySegment> r = expect("vmap", call, () -> {
            model.vmap(c, m);
            return null;
        }, () -> regs[bundle].vmap(handle(m)));
        if (r.ok()) {
            assertEquals(m.size, r.core().byteSize(), call + ": a view of exactly size() bytes");
            if (before > 0) {
                SegRec last = lastVmapView(m);
                assertNotNull(last);
                assertEquals(last.segment.address(), r.core().address(), call + ": the same view");
                assertEquals(last.segment.scope(), r.core().scope(), call + ": the same view");
            }
            segs.add(new SegRec("vmap", new Seg(m, 0, m.size), r.core()));
            note(" view #" + (segs.size() - 1));
        }
    }

    private SegRec lastVmapView(MBuf m) {
        SegRec last = null;
        for (SegRec s : segs) {
            if (s.kind.equals("vmap") && s.seg.buf() == m) {
                last = s;
            }
        }
        return last;
    }

    /**
     * @param bundleSel -1: a bundle holding a vmap
     * @param variant   0 the buffer's last vmap view (foreign if none); 1 any view by selector; 2 foreign
     */
    void vunmap(int bundleSel, int bufSel, int variant, int segSel) {
        Pick p = pickFor(bundleSel, bufSel, World::holdsVmap);
        if (p == null) {
            skipped("vunmap");
            return;
        }
        MBundle c = bundle(p.bundle);
        MBuf m = p.buf;
        SegRec seg = variant == 0 ? lastVmapView(m)
                : variant == 1 && !segs.isEmpty() ? segs.get(segs.size() - 1 - segSel % segs.size()) : null;
        SegRec passed = seg != null ? seg : new SegRec("foreign", Seg.FOREIGN, foreign);
        expect("vunmap", c + ".vunmap(" + m + ", " + describe(passed) + ")", () -> {
            model.vunmap(c, m, passed.seg);
            return null;
        }, () -> {
            regs[p.bundle].vunmap(handle(m), passed.segment);
            return null;
        });
    }

    void mmap(int bundleSel, int fdSel, long offset, long length, int prot) {
        FdPick p = pickFd(bundleSel, fdSel);
        MBundle c = bundle(p.bundle);
        String call = c + ".mmap(fd " + p.fd + ", offset " + offset + ", length " + length + ", prot " + prot + ")";
        Outcome<MMapping, DmaBufMapping> r = expect("mmap", call, () -> model.mmap(c, p.fd, offset, length, prot),
                () -> regs[p.bundle].mmap(p.fd, offset, length, prot));
        if (r.ok()) {
            MMapping m = r.model();
            DmaBufMapping got = r.core();
            note(" mapping#" + m.index + " of " + m.buf + ", view #" + segs.size());
            assertEquals(m.index, mappings.size());
            assertSame(api(m.buf), got.dmaBuf(), call + ": the fd's buffer");
            assertEquals(m.length, got.length(), call + ": length rounded up to pages, exactly");
            assertEquals(m.length, got.segment().byteSize(), call + ": segment length");
            assertEquals(offset, got.offset(), call + ": offset");
            assertEquals(prot, got.prot(), call + ": prot");
            assertEquals((prot & DmaBufUapi.PROT_WRITE) == 0, got.segment().isReadOnly(), call + ": read-only");
            assertTrue(got.isMapped(), call + ": mapped");
            mappings.add(got);
            segs.add(new SegRec("mmap", new Seg(m.buf, offset, m.length), got.segment()));
        }
    }

    /** 0..15: an open mapping (counted from the newest; any if none is open), 16..: any. */
    void closeMapping(int mapSel) {
        if (model.mappings.isEmpty()) {
            skipped("mapping.close");
            return;
        }
        List<MMapping> open = model.mappings.stream().filter(x -> x.open).toList();
        List<MMapping> from = mapSel < 16 && !open.isEmpty() ? open : model.mappings;
        MMapping m = from.get(from.size() - 1 - mapSel % from.size());
        expect("mapping.close", "mapping#" + m.index + ".close()", () -> {
            model.closeMapping(m);
            return null;
        }, () -> {
            mappings.get(m.index).close();
            return null;
        });
    }

    void sync(int bundleSel, int fdSel, long flags) {
        FdPick p = pickFd(bundleSel, fdSel);
        MBundle c = bundle(p.bundle);
        expect("sync", c + ".sync(fd " + p.fd + ", flags " + flags + ")", () -> {
            model.sync(c, p.fd, flags);
            return null;
        }, () -> {
            regs[p.bundle].sync(p.fd, flags);
            return null;
        });
    }

    void llseek(int bundleSel, int fdSel, long offset, int whence) {
        FdPick p = pickFd(bundleSel, fdSel);
        MBundle c = bundle(p.bundle);
        String call = c + ".llseek(fd " + p.fd + ", " + offset + ", whence " + whence + ")";
        Outcome<Long, Long> r = expect("llseek", call, () -> model.llseek(c, p.fd, offset, whence),
                () -> regs[p.bundle].llseek(p.fd, offset, whence));
        if (r.ok()) {
            assertEquals(r.model(), r.core(), call);
        }
    }

    void setName(int bundleSel, int fdSel, String name) {
        FdPick p = pickFd(bundleSel, fdSel);
        MBundle c = bundle(p.bundle);
        expect("setName", c + ".setName(fd " + p.fd + ", " + (name == null ? "null"
                : "'" + name.replace("\0", "\\0") + "'") + ")", () -> {
                    model.setName(c, p.fd, name);
                    return null;
                }, () -> {
                    regs[p.bundle].setName(p.fd, name);
                    return null;
                });
    }

    void closeBundle(int bundle) {
        MBundle c = bundle(bundle);
        expect("bundleStop", "stop " + c + " (core.closeClient)", () -> {
            model.closeBundle(c);
            return null;
        }, () -> {
            fx.core.closeClient(clients[bundle]);
            return null;
        });
    }

    // ---- comparing everything observable ------------------------------------------------------------------------

    void checkAll() {
        model.checkSelf();
        checkBuffers();
        for (MBundle c : model.bundles) {
            checkBundle(c);
        }
        checkAttachments();
        for (MMapping m : model.mappings) {
            assertEquals(m.open, mappings.get(m.index).isMapped(), "mapping#" + m.index + " isMapped");
        }
        assertEquals(model.leakTotal, fx.core.leaks().reportedCount(), "leak reports");
        List<LeakDTO> recent = fx.core.leaks().recent();
        if (recent.size() == model.leakTotal) {
            Map<String, Integer> kinds = new TreeMap<>();
            for (LeakDTO l : recent) {
                kinds.merge(l.kind, 1, Integer::sum);
            }
            assertEquals(model.leaks, kinds, "leak reports by kind");
        }
        assertEquals(List.of(), fx.log.errors, "errors the core logged");
        checkViews();
    }

    private void checkBuffers() {
        Set<Long> listed = fx.core.buffers().all().stream().map(Buffer::id).collect(Collectors.toSet());
        Set<Long> expected = model.bufs.stream().filter(b -> b.state != Model.BufState.RELEASED).map(b -> b.id)
                .collect(Collectors.toSet());
        assertEquals(expected, listed, "core.buffers().all() ids");
        assertEquals(model.bufs.size(), fx.core.buffers().exportedCount(), "buffers exported");
        assertEquals(model.releasedCount(), fx.core.buffers().releasedCount(), "buffers whose release ran");
        long liveBytes = model.bufs.stream().filter(b -> b.state == Model.BufState.LIVE).mapToLong(b -> b.size).sum();
        assertEquals(liveBytes, fx.core.buffers().liveBytes(), "live bytes");
        for (MBuf m : model.bufs) {
            Buffer b = handle(m);
            assertEquals(m.state.name(), b.state().name(), m + " state");
            assertEquals(m.refs, b.refCount(), m + " reference count");
            assertEquals(m.vmapCount, b.vmapCount(), m + " vmap count");
            assertEquals(m.name, b.currentName(), m + " name");
            List<Attachment> linked = b.attachmentsSnapshot(LOCK_WAIT_MS);
            assertEquals(m.linked.size(), linked.size(), m + " linked attachments");
            for (int i = 0; i < linked.size(); i++) {
                assertSame(atts.get(m.linked.get(i).index), linked.get(i), m + " linked attachment " + i);
            }
            DmaBufOps exporter = ops.get(m.index);
            assertEquals(m.calls, exporterCalls(exporter), m + " (" + m.kind + ") exporter calls");
            if (exporter instanceof TestExporter t) {
                assertEquals(m.dirs, multiset(t.directions), m + " directions the exporter saw");
                assertEquals(m.ranges, multiset(t.ranges), m + " ranges the exporter saw");
            }
        }
    }

    private void checkBundle(MBundle c) {
        Client client = clients[c.index];
        assertEquals(c.closed, client.isClosed(), c + " closed");
        assertEquals(new ArrayList<>(c.fds.keySet()), client.files().openFds(), c + " open fds");
        for (Map.Entry<Integer, Model.MFile> e : c.fds.entrySet()) {
            OpenFile f = client.files().get(e.getKey());
            assertSame(handle(e.getValue().buf()), f.buffer(), c + " fd " + e.getKey() + " buffer");
            assertEquals(e.getValue().flags(), f.flags(), c + " fd " + e.getKey() + " flags");
        }
        DmaBufRegistry reg = regs[c.index];
        if (!c.closed) {
            for (Map.Entry<Integer, Model.MFile> e : c.fds.entrySet()) {
                MBuf m = e.getValue().buf();
                FdInfo info = reg.fdinfo(e.getKey());
                String what = c + " fdinfo(" + e.getKey() + ")";
                assertEquals(m.size, info.size(), what + " size");
                assertEquals(m.refs, info.count(), what + " count");
                assertEquals(m.exporterName, info.exporterName(), what + " exp_name");
                assertEquals(m.name, info.name(), what + " name");
                assertEquals(e.getValue().flags(), info.flags(), what + " flags");
                assertEquals(m.id, info.inode(), what + " ino");
            }
        }
        for (MBuf m : model.bufs) {
            Holding h = client.existingHolding(handle(m));
            Model.MHold mh = c.holdings.get(m);
            String what = c + " holding of " + m;
            if (m.state == Model.BufState.RELEASED) {
                assertNull(h, what + ": forgotten at release");
                continue;
            }
            assertEquals(mh == null ? 0 : mh.refs, h == null ? 0 : h.refs(), what + ": references");
            assertEquals(mh == null ? 0 : mh.vmaps, h == null ? 0 : h.vmaps(), what + ": vmaps");
            assertEquals(mh == null ? List.of() : mh.brackets.stream().map(br -> br.dir() + "[" + br.offset() + "+"
                    + br.length() + "]").toList(), h == null ? List.of() : h.brackets().stream().map(br ->
                            br.direction() + "[" + br.offset() + "+" + br.length() + "]").toList(),
                    what + ": brackets");
            assertEquals(mh == null ? List.of() : mh.kmaps.stream().map(k -> k.page() + (k.atomic() ? "a" : ""))
                    .toList(), h == null ? List.of() : h.kmaps().stream().map(k -> k.pageIndex()
                            + (k.atomic() ? "a" : "")).toList(), what + ": kmaps");
        }
        assertEquals(identitySet(c.atts.stream().map(a -> atts.get(a.index)).toList()),
                identitySet(client.attachments()), c + " attachments");
        assertEquals(identitySet(c.mmaps.stream().map(m -> mappings.get(m.index)).toList()),
                identitySet(client.mmaps()), c + " mmaps");
    }

    private void checkAttachments() {
        for (MAtt a : model.atts) {
            Attachment h = (Attachment) atts.get(a.index);
            assertEquals(a.state.name(), h.state().name(), a + " state");
            assertEquals(a.state == Model.AttState.ATTACHED, h.isAttached(), a + " isAttached");
            assertEquals(a.tables.size(), h.mappedTableCount(), a + " mapped tables");
            assertEquals(a.corePinned ? 1 : 0, h.pinCount(), a + " pins");
            CountingImporter importer = importers.get(a.index);
            if (importer != null) {
                assertEquals(a.invalidations, importer.calls, a + " invalidateMappings calls");
            }
        }
    }

    /** CPU views are scoped to their buffer: usable while it is live, IllegalStateException once it is not. */
    private void checkViews() {
        for (SegRec s : segs) {
            Model.BufState state = s.seg.buf().state;
            if (state == s.checkedState) {
                continue; // checked at this state already; a closed scope never reopens
            }
            boolean usable;
            try {
                s.segment.get(ValueLayout.JAVA_BYTE, 0);
                usable = true;
            } catch (IllegalStateException e) {
                usable = false;
            }
            assertEquals(state == Model.BufState.LIVE, usable, "the " + s.kind + " view #" + segs.indexOf(s)
                    + " of " + s.seg.buf() + " (" + state + ") usable while, and only while, its buffer is live");
            s.checkedState = state;
        }
    }

    private static Map<String, Integer> exporterCalls(DmaBufOps ops) {
        Map<String, AtomicInteger> calls = ops instanceof TestExporter t ? t.calls
                : ((TestExporter.Minimal) ops).calls;
        Map<String, Integer> out = new TreeMap<>();
        calls.forEach((k, v) -> {
            if (v.get() != 0) {
                out.put(k, v.get());
            }
        });
        return out;
    }

    private static Map<String, Integer> multiset(Collection<String> items) {
        Map<String, Integer> out = new TreeMap<>();
        for (String s : items) {
            out.merge(s, 1, Integer::sum);
        }
        return out;
    }

    private static Set<Object> identitySet(Collection<?> items) {
        Set<Object> s = Collections.newSetFromMap(new IdentityHashMap<>());
        s.addAll(items);
        return s;
    }

    /**
     * Test exporters take their storage from TestExporter's pool, which is never freed; reusing them (once their
     * buffer's release ran) keeps long runs from growing the native heap.
     */
    static final class ExporterPool {
        private static final Map<Model.Kind, ArrayDeque<DmaBufOps>> FREE = new EnumMap<>(Model.Kind.class);

        private ExporterPool() {
        }

        static synchronized DmaBufOps take(Model.Kind kind) {
            DmaBufOps ops = FREE.computeIfAbsent(kind, k -> new ArrayDeque<>()).poll();
            if (ops != null) {
                return ops;
            }
            return switch (kind) {
                case FULL -> new TestExporter(STORAGE);
                case MINIMAL -> new TestExporter.Minimal();
                case CACHING -> new TestExporter.Caching(STORAGE);
                case DYNAMIC -> new TestExporter.Dynamic(STORAGE);
            };
        }

        static synchronized void giveBack(Model.Kind kind, DmaBufOps ops) {
            if (ops instanceof TestExporter t) {
                t.calls.clear();
                t.directions.clear();
                t.ranges.clear();
                FREE.computeIfAbsent(kind, k -> new ArrayDeque<>()).push(ops);
            }
        }
    }
}
