package dmabuf.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Device;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.leak.TrackedDmaBuf;
import dmabuf.testing.LeakCheck;

/** Buffers dropped without put are found by the garbage collector and reported against the bundle (issue 8). */
class LeakDetectionTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;

    private static CoreFixture fixture(LeakReportLevel level) {
        return new CoreFixture(CoreConfig.DEFAULTS.withLeakReportLevel(level));
    }

    private static List<LeakDTO> dropped(CoreFixture fx) {
        LeakCheck.collectGarbage();
        return Arrays.stream(fx.core.snapshots().runtimeDTO().leaks)
                .filter(l -> LeakDTO.KIND_DROPPED.equals(l.kind)).toList();
    }

    /** Exports, gives the importer a reference and lets both the exporter's put and the importer's handle go. */
    private static long exportAndDropImportersReference(CoreFixture fx) {
        DmaBuf buf = fx.export(new TestExporter(PAGE), PAGE);
        fx.imp.get(buf);
        fx.exp.put(buf);
        return buf.id();
    }

    @Test
    void aHandleDroppedWithoutPutIsReportedAgainstTheBundleWithTheExportSite() {
        CoreFixture fx = fixture(LeakReportLevel.PARANOID);
        long id = exportAndDropImportersReference(fx);
        List<LeakDTO> leaks = dropped(fx);
        assertEquals(1, leaks.size(), () -> "one dropped report expected: " + LeakCheck.describe(leaks));
        LeakDTO l = leaks.get(0);
        assertEquals(id, l.bufferId);
        assertEquals(20, l.bundleId, "the bundle that still held the reference");
        assertEquals("importer.bundle", l.bundleSymbolicName);
        assertTrue(l.detail.startsWith("1 reference(s) never put"), l.detail);
        assertNotNull(l.creationSite, "PARANOID records where the buffer was exported");
        assertTrue(l.creationSite.contains("exportAndDropImportersReference"), l.creationSite);
        assertEquals(1, fx.log.warningsContaining("bundle importer.bundle [20] dropped dropped of dma-buf " + id).size(),
                () -> "one WARN names bundle and buffer: " + fx.log.warnings);
        // only reported: the bundle's stop reclaims the reference and releases the buffer, once
        assertEquals(1, fx.core.buffers().all().size());
        fx.core.closeClient(fx.impClient);
        assertEquals(0, fx.core.buffers().all().size());
        assertEquals(1, fx.core.leakDetector().droppedCount());
    }

    @Test
    void aHandleStillReachableIsNoLeakAndEveryGetReturnsIt() {
        CoreFixture fx = fixture(LeakReportLevel.PARANOID);
        DmaBuf buf = fx.export(new TestExporter(PAGE), PAGE);
        assertInstanceOf(TrackedDmaBuf.class, buf);
        assertSame(buf, fx.imp.get(buf), "one handle per buffer while it is reachable, whichever bundle asks");
        int fd = fx.exp.fd(fx.exp.get(buf), DmaBufUapi.O_CLOEXEC);
        assertSame(buf, fx.exp.get(fd));
        DmaBufAttachment att = fx.imp.attach(buf, Device.of("dev0"));
        assertSame(buf, att.dmaBuf());
        Buffer raw = ((TrackedDmaBuf) buf).buffer();
        assertTrue(buf.equals(raw) && raw.equals(buf) && buf.hashCode() == raw.hashCode(),
                "the handle is equal to the buffer the ops see");
        assertEquals(List.of(), dropped(fx));
        fx.imp.detach(att);
        fx.imp.put(buf);
        fx.exp.put(buf);
        fx.exp.close(fd);
        fx.exp.put(buf);
        assertEquals(0, fx.core.buffers().all().size());
        buf = null;
        assertEquals(List.of(), dropped(fx), "a handle dropped after every put is no leak");
    }

    @Test
    void droppingTheHandleWhileOnlyAnFdHoldsTheBufferIsNoLeak() {
        CoreFixture fx = fixture(LeakReportLevel.PARANOID);
        int fd = fx.exp.fd(fx.export(new TestExporter(PAGE), PAGE), 0);
        assertEquals(List.of(), dropped(fx), "an fd is a handle of its own");
        DmaBuf again = fx.exp.get(fd);
        assertInstanceOf(TrackedDmaBuf.class, again, "a new handle after the first was collected");
        fx.exp.put(again);
        fx.exp.close(fd);
        assertEquals(0, fx.core.buffers().all().size());
    }

    @Test
    void disabledTracksNothingAndHandsOutTheBufferItself() {
        CoreFixture fx = fixture(LeakReportLevel.DISABLED);
        DmaBuf buf = fx.export(new TestExporter(PAGE), PAGE);
        assertInstanceOf(Buffer.class, buf);
        exportAndDropImportersReference(fx);
        assertEquals(List.of(), dropped(fx));
        assertEquals(0, fx.core.leakDetector().trackedCount());
    }

    @Test
    void simpleSamplesOneExportInTheIntervalWithoutASite() {
        CoreFixture fx = new CoreFixture(CoreConfig.DEFAULTS.withLeakSamplingInterval(4));
        for (int i = 0; i < 8; i++) {
            exportAndDropImportersReference(fx);
        }
        assertEquals(2, fx.core.leakDetector().trackedCount(), "exports 4 and 8 of 8");
        List<LeakDTO> leaks = dropped(fx);
        assertEquals(2, leaks.size(), () -> LeakCheck.describe(leaks));
        assertNull(leaks.get(0).creationSite, "SIMPLE records no site");
    }

    @Test
    void leakCheckFailsNamingTheDroppedBufferAndPassesOnceEverythingIsPut() {
        CoreFixture fx = fixture(LeakReportLevel.PARANOID);
        LeakCheck check = LeakCheck.of(() -> fx.core.snapshots().runtimeDTO()).start();
        DmaBuf kept = fx.export(new TestExporter(PAGE), PAGE);
        check.assertNoLeaks();
        AssertionError stillThere = assertThrows(AssertionError.class, check::assertNothingAllocated);
        assertTrue(stillThere.getMessage().contains("dma-buf " + kept.id()), stillThere.getMessage());
        fx.exp.put(kept);
        check.assertNothingAllocated();
        long id = exportAndDropImportersReference(fx);
        AssertionError e = assertThrows(AssertionError.class, check::assertNoLeaks);
        assertTrue(e.getMessage().contains("dropped of dma-buf " + id + " held by bundle importer.bundle [20]"),
                e.getMessage());
    }

    @Test
    void threadsMakingAndDroppingHandlesWhileTheCollectorRunsFindExactlyTheLeakedBuffers() throws Exception {
        CoreFixture fx = fixture(LeakReportLevel.PARANOID);
        int threads = 4;
        int rounds = 300;
        java.util.Set<Long> leaked = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            List<java.util.concurrent.Future<?>> futures = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < rounds; i++) {
                        DmaBuf b = fx.exp.export(dmabuf.api.ExportInfo.builder(new TestExporter(PAGE), PAGE).build());
                        boolean leak = (i + seed) % 25 == 0;
                        if (leak) {
                            fx.imp.get(b); // never put
                            leaked.add(b.id());
                        }
                        int fd = fx.exp.fd(b, 0); // the export's reference moves into the fd
                        DmaBuf again = fx.exp.get(fd);
                        fx.exp.put(again);
                        fx.exp.close(fd);
                        if (i % 50 == seed) {
                            System.gc(); // handles die while other threads make new ones
                        }
                    }
                    return null;
                }));
            }
            for (var f : futures) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS); // a deadlock fails here, bounded
            }
        } finally {
            pool.shutdownNow();
        }
        java.util.Set<Long> reported = new java.util.TreeSet<>();
        dropped(fx).forEach(l -> {
            assertEquals(20, l.bundleId, "only the importer holds references it cannot put");
            reported.add(l.bufferId);
        });
        assertEquals(new java.util.TreeSet<>(leaked), reported, "exactly the leaked buffers are reported");
        assertEquals(leaked.size(), fx.core.buffers().all().size(), "the leaked buffers stay until the stop");
        fx.core.closeClient(fx.impClient);
        assertEquals(0, fx.core.buffers().all().size());
    }

    @Test
    void releaseForgetsTheBuffer() {
        CoreFixture fx = fixture(LeakReportLevel.PARANOID);
        DmaBuf buf = fx.export(new TestExporter(PAGE), PAGE);
        assertEquals(1, fx.core.leakDetector().trackedNow());
        fx.exp.put(buf);
        assertEquals(0, fx.core.leakDetector().trackedNow());
    }
}
