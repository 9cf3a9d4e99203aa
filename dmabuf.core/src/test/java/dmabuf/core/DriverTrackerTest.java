package dmabuf.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufImporter;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.api.runtime.ExporterDTO;
import dmabuf.api.runtime.FailedDriverDTO;
import dmabuf.api.runtime.ImporterDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.core.drivers.DriverTracker;
import dmabuf.core.drivers.DriverTracker.Kind;

/** The driver whiteboard and the runtime DTO's accounting. */
class DriverTrackerTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;

    private CoreFixture fx;
    private DriverTracker drivers;

    @BeforeEach
    void setUp() {
        fx = new CoreFixture();
        drivers = fx.core.drivers();
    }

    private RuntimeDTO dto() {
        return fx.core.snapshots().runtimeDTO();
    }

    private ExporterDTO exporter(long serviceId) {
        return Arrays.stream(dto().exporters).filter(e -> e.serviceId == serviceId).findFirst().orElse(null);
    }

    private ImporterDTO importer(long serviceId) {
        return Arrays.stream(dto().importers).filter(e -> e.serviceId == serviceId).findFirst().orElse(null);
    }

    private FailedDriverDTO failed(long serviceId) {
        return Arrays.stream(dto().failedDrivers).filter(e -> e.serviceId == serviceId).findFirst().orElse(null);
    }

    private ClientDTO client(long bundleId) {
        return Arrays.stream(dto().clients).filter(c -> c.bundleId == bundleId).findFirst().orElseThrow();
    }

    private static Map<String, Object> props(Object... kv) {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    // ---- accepted drivers ---------------------------------------------------------------------------------------

    @Test
    void acceptedExporterIsListedWithItsProperties() {
        drivers.add(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, "card0",
                DmaBufExporter.CAPABILITIES, new String[] {"vmap", "mmap", "pin"}));

        ExporterDTO e = exporter(100);
        assertNotNull(e);
        assertEquals("gpu0", e.name);
        assertEquals("card0", e.device);
        assertArrayEquals(new String[] {"vmap", "mmap", "pin"}, e.capabilities);
        assertEquals(10, e.bundleId);
        assertEquals(100, e.serviceId);
        assertEquals(0, e.buffers);
        assertEquals(0, e.bytes);
        assertEquals(0, dto().failedDrivers.length);
        assertEquals(0, dto().importers.length);
    }

    @Test
    void acceptedImporterIsListedWithItsProperties() {
        drivers.add(Kind.IMPORTER, 200, 20, props(DmaBufImporter.NAME, "display", DmaBufImporter.DEVICE, "crtc0",
                DmaBufImporter.CAPABILITIES, List.of("dynamic", "contiguous")));

        ImporterDTO i = importer(200);
        assertNotNull(i);
        assertEquals("display", i.name);
        assertEquals("crtc0", i.device);
        assertArrayEquals(new String[] {"dynamic", "contiguous"}, i.capabilities);
        assertEquals(20, i.bundleId);
        assertEquals(200, i.serviceId);
        assertEquals(0, dto().exporters.length);
        assertEquals(0, dto().failedDrivers.length);
    }

    @Test
    void capabilitiesAcceptStringArrayAndCollectionForms() {
        drivers.add(Kind.EXPORTER, 101, 10, props(DmaBufExporter.NAME, "single", DmaBufExporter.CAPABILITIES, "vmap"));
        drivers.add(Kind.EXPORTER, 102, 10, props(DmaBufExporter.NAME, "array",
                DmaBufExporter.CAPABILITIES, new String[] {"vmap", "mmap"}));
        drivers.add(Kind.EXPORTER, 103, 10, props(DmaBufExporter.NAME, "list",
                DmaBufExporter.CAPABILITIES, List.of("pin", "unpin")));
        drivers.add(Kind.EXPORTER, 104, 10, props(DmaBufExporter.NAME, "set",
                DmaBufExporter.CAPABILITIES, Set.of("kmap")));
        drivers.add(Kind.EXPORTER, 105, 10, props(DmaBufExporter.NAME, "none"));
        drivers.add(Kind.IMPORTER, 201, 20, props(DmaBufImporter.NAME, "imp-single",
                DmaBufImporter.CAPABILITIES, "dynamic"));
        drivers.add(Kind.IMPORTER, 202, 20, props(DmaBufImporter.NAME, "imp-array",
                DmaBufImporter.CAPABILITIES, new String[] {"a", "b"}));

        assertArrayEquals(new String[] {"vmap"}, exporter(101).capabilities);
        assertArrayEquals(new String[] {"vmap", "mmap"}, exporter(102).capabilities);
        assertArrayEquals(new String[] {"pin", "unpin"}, exporter(103).capabilities);
        assertArrayEquals(new String[] {"kmap"}, exporter(104).capabilities);
        assertArrayEquals(new String[0], exporter(105).capabilities);
        assertNull(exporter(105).device);
        assertArrayEquals(new String[] {"dynamic"}, importer(201).capabilities);
        assertArrayEquals(new String[] {"a", "b"}, importer(202).capabilities);
        assertEquals(0, dto().failedDrivers.length);
    }

    @Test
    void capabilitiesArrayInDtoIsACopy() {
        String[] caps = {"vmap", "mmap"};
        drivers.add(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0", DmaBufExporter.CAPABILITIES, caps));
        caps[0] = "changed";
        exporter(100).capabilities[1] = "scribbled";
        assertArrayEquals(new String[] {"vmap", "mmap"}, exporter(100).capabilities);
    }

    // ---- rejected drivers ---------------------------------------------------------------------------------------

    @Test
    void invalidNamesAreRejected() {
        drivers.add(Kind.EXPORTER, 100, 10, props(DmaBufExporter.DEVICE, "card0"));
        drivers.add(Kind.EXPORTER, 101, 10, props(DmaBufExporter.NAME, ""));
        drivers.add(Kind.EXPORTER, 102, 10, props(DmaBufExporter.NAME, "   "));
        drivers.add(Kind.EXPORTER, 103, 10, props(DmaBufExporter.NAME, 42));
        drivers.add(Kind.IMPORTER, 104, 20, props(DmaBufImporter.NAME, new String[] {"display"}));
        drivers.add(Kind.IMPORTER, 105, 20, props());
        // an exporter name under the importer key is no name for an exporter
        drivers.add(Kind.EXPORTER, 106, 10, props(DmaBufImporter.NAME, "wrong-key"));

        RuntimeDTO d = dto();
        assertEquals(0, d.exporters.length);
        assertEquals(0, d.importers.length);
        assertEquals(7, d.failedDrivers.length);
        for (FailedDriverDTO f : d.failedDrivers) {
            assertEquals(FailedDriverDTO.FAILURE_REASON_INVALID_NAME, f.failureReason, f.failureMessage);
            assertNotNull(f.failureMessage);
            assertTrue(f.failureMessage.contains(f.kind.equals("exporter") ? DmaBufExporter.NAME
                    : DmaBufImporter.NAME), f.failureMessage);
        }
        assertNull(failed(100).name);
        assertEquals("exporter", failed(100).kind);
        assertEquals(10, failed(100).bundleId);
        assertEquals("   ", failed(102).name);
        assertNull(failed(103).name);
        assertEquals("importer", failed(104).kind);
        assertEquals(20, failed(104).bundleId);
        assertEquals(-1, drivers.exporterServiceOf(10, ""));
    }

    @Test
    void wronglyTypedPropertiesAreRejected() {
        drivers.add(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, 7));
        drivers.add(Kind.EXPORTER, 101, 10, props(DmaBufExporter.NAME, "gpu1",
                DmaBufExporter.CAPABILITIES, List.of("vmap", 3)));
        drivers.add(Kind.EXPORTER, 102, 10, props(DmaBufExporter.NAME, "gpu2", DmaBufExporter.CAPABILITIES, 5));
        drivers.add(Kind.IMPORTER, 200, 20, props(DmaBufImporter.NAME, "display",
                DmaBufImporter.DEVICE, new String[] {"crtc0"}));
        drivers.add(Kind.IMPORTER, 201, 20, props(DmaBufImporter.NAME, "camera",
                DmaBufImporter.CAPABILITIES, new Object[] {"a", 1}));

        RuntimeDTO d = dto();
        assertEquals(0, d.exporters.length);
        assertEquals(0, d.importers.length);
        assertEquals(5, d.failedDrivers.length);
        for (FailedDriverDTO f : d.failedDrivers) {
            assertEquals(FailedDriverDTO.FAILURE_REASON_INVALID_PROPERTY, f.failureReason, f.failureMessage);
        }
        assertEquals("gpu0", failed(100).name);
        assertTrue(failed(100).failureMessage.contains(DmaBufExporter.DEVICE), failed(100).failureMessage);
        assertTrue(failed(101).failureMessage.contains(DmaBufExporter.CAPABILITIES), failed(101).failureMessage);
        assertEquals("display", failed(200).name);
        // a rejected exporter service cannot be exported under
        assertEquals(-1, drivers.exporterServiceOf(10, "gpu0"));
        CoreFixture.assertErrno(Errno.EINVAL,
                () -> fx.exp.export(ExportInfo.builder(new TestExporter(PAGE), PAGE).exporter("gpu0").build()));
    }

    @Test
    void duplicateNameLosesAndIsPromotedWhenFirstGoes() {
        drivers.add(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, "card0"));
        drivers.add(Kind.EXPORTER, 101, 30, props(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, "card1"));

        assertEquals(1, dto().exporters.length);
        assertEquals("card0", exporter(100).device);
        FailedDriverDTO dup = failed(101);
        assertNotNull(dup);
        assertEquals(FailedDriverDTO.FAILURE_REASON_DUPLICATE_NAME, dup.failureReason);
        assertEquals("gpu0", dup.name);
        assertEquals(30, dup.bundleId);
        assertEquals("exporter", dup.kind);

        drivers.remove(Kind.EXPORTER, 100);

        assertEquals(0, dto().failedDrivers.length);
        ExporterDTO promoted = exporter(101);
        assertNotNull(promoted);
        assertEquals("card1", promoted.device);
        assertEquals(30, promoted.bundleId);
        assertEquals(1, dto().exporters.length);
        assertEquals(101, drivers.exporterServiceOf(30, "gpu0"));
        assertEquals(-1, drivers.exporterServiceOf(10, "gpu0"));
    }

    @Test
    void duplicateImporterNameToo() {
        drivers.add(Kind.IMPORTER, 200, 20, props(DmaBufImporter.NAME, "display"));
        drivers.add(Kind.IMPORTER, 201, 20, props(DmaBufImporter.NAME, "display"));
        drivers.add(Kind.IMPORTER, 202, 20, props(DmaBufImporter.NAME, "display"));

        assertEquals(1, dto().importers.length);
        assertNotNull(importer(200));
        assertEquals(FailedDriverDTO.FAILURE_REASON_DUPLICATE_NAME, failed(201).failureReason);
        assertEquals(FailedDriverDTO.FAILURE_REASON_DUPLICATE_NAME, failed(202).failureReason);

        drivers.remove(Kind.IMPORTER, 200);
        // the next service id wins, the last one still loses
        assertNotNull(importer(201));
        assertEquals(FailedDriverDTO.FAILURE_REASON_DUPLICATE_NAME, failed(202).failureReason);
        assertEquals(1, dto().failedDrivers.length);
    }

    @Test
    void exporterAndImporterMayShareAName() {
        drivers.add(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0"));
        drivers.add(Kind.IMPORTER, 101, 10, props(DmaBufImporter.NAME, "gpu0"));

        assertNotNull(exporter(100));
        assertNotNull(importer(101));
        assertEquals(0, dto().failedDrivers.length);
    }

    @Test
    void modifiedRevalidates() {
        drivers.add(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0"));
        drivers.modified(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, 1));
        assertNull(exporter(100));
        assertEquals(FailedDriverDTO.FAILURE_REASON_INVALID_PROPERTY, failed(100).failureReason);
        drivers.modified(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, "c"));
        assertEquals("c", exporter(100).device);
        assertEquals(0, dto().failedDrivers.length);
    }

    // ---- change count -------------------------------------------------------------------------------------------

    @Test
    void changeCountGrowsOnDriverAndBufferChanges() {
        long c0 = fx.core.changeCount();
        drivers.add(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0"));
        long c1 = fx.core.changeCount();
        assertTrue(c1 > c0, "add");
        drivers.modified(Kind.EXPORTER, 100, 10, props(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, "d"));
        long c2 = fx.core.changeCount();
        assertTrue(c2 > c1, "modify");
        DmaBuf buf = fx.export(new TestExporter(PAGE), PAGE);
        long c3 = fx.core.changeCount();
        assertTrue(c3 > c2, "export");
        fx.exp.put(buf);
        long c4 = fx.core.changeCount();
        assertTrue(c4 > c3, "release");
        drivers.remove(Kind.EXPORTER, 100);
        long c5 = fx.core.changeCount();
        assertTrue(c5 > c4, "remove");
        drivers.add(Kind.IMPORTER, 200, 20, props(DmaBufImporter.NAME, ""));
        long c6 = fx.core.changeCount();
        assertTrue(c6 > c5, "a rejected registration is a change too");
        assertEquals(c6, dto().changeCount);
    }

    // ---- accounting ---------------------------------------------------------------------------------------------

    @Test
    void runtimeTotalsAndClientsMatchScriptedScenario() {
        fx.registerExporter(100, "gpu0");
        TestExporter opsA = new TestExporter(PAGE);
        TestExporter opsB = new TestExporter(2 * PAGE);
        TestExporter opsC = new TestExporter(3 * PAGE);
        DmaBuf a = fx.export(opsA, PAGE);
        DmaBuf b = fx.export(opsB, 2 * PAGE);
        DmaBuf c = fx.exp.export(ExportInfo.builder(opsC, 3 * PAGE).exporter("gpu0").build());

        RuntimeDTO d = dto();
        assertEquals(3, d.totalBuffers);
        assertEquals(6 * PAGE, d.totalBytes);
        assertEquals(6 * PAGE, d.peakBytes);
        assertEquals(3, d.exportedBuffers);
        assertEquals(0, d.releasedBuffers);
        assertEquals(1, exporter(100).buffers);
        assertEquals(3 * PAGE, exporter(100).bytes);

        // the importer: an fd and an object reference to A, an attachment, a vmap and an mmap
        fx.imp.get(a);
        int impFd = fx.imp.fd(a, DmaBufUapi.O_RDWR);
        fx.imp.get(a);
        dmabuf.api.DmaBufAttachment att = fx.imp.attach(a, Device.of("gpu"));
        MemorySegment v = fx.imp.vmap(a);
        fx.imp.vmap(a);
        DmaBufMapping m = fx.imp.mmap(impFd, 0, PAGE, DmaBufUapi.PROT_READ);
        fx.imp.beginCpuAccess(a, dmabuf.api.DmaDataDirection.FROM_DEVICE);
        // the exporter moves its reference to B into an fd and dups it
        int expFd = fx.exp.fd(b, DmaBufUapi.O_RDWR);
        fx.exp.dup(expFd);

        ClientDTO exp = client(10);
        assertEquals("exporter.bundle", exp.symbolicName);
        assertEquals(2, exp.openFds);
        assertEquals(2, exp.references); // A and C
        assertEquals(0, exp.attachments);
        assertEquals(0, exp.vmaps);
        assertEquals(0, exp.mmaps);
        assertEquals(0, exp.cpuAccessBrackets);
        assertEquals(3, exp.exportedBuffers);
        assertEquals(6 * PAGE, exp.exportedBytes);
        ClientDTO imp = client(20);
        assertEquals("importer.bundle", imp.symbolicName);
        assertEquals(1, imp.openFds);
        assertEquals(1, imp.references);
        assertEquals(1, imp.attachments);
        assertEquals(1, dto().attachments.length);
        assertEquals(20, dto().attachments[0].bundleId);
        assertEquals(2, imp.vmaps);
        assertEquals(1, imp.mmaps);
        assertEquals(1, imp.cpuAccessBrackets);
        assertEquals(0, imp.exportedBuffers);
        assertEquals(0, imp.exportedBytes);

        // C goes: released, counted out everywhere; peak stays
        fx.exp.put(c);
        d = dto();
        assertEquals(2, d.totalBuffers);
        assertEquals(3 * PAGE, d.totalBytes);
        assertEquals(6 * PAGE, d.peakBytes);
        assertEquals(3, d.exportedBuffers);
        assertEquals(1, d.releasedBuffers);
        assertEquals(0, exporter(100).buffers);
        assertEquals(0, exporter(100).bytes);
        assertEquals(2, client(10).exportedBuffers);
        assertEquals(3 * PAGE, client(10).exportedBytes);
        assertEquals(1, client(10).references);

        // a new, smaller buffer does not raise the peak
        DmaBuf e = fx.exp.export(ExportInfo.builder(new TestExporter(PAGE), PAGE).exporter("gpu0").build());
        d = dto();
        assertEquals(4 * PAGE, d.totalBytes);
        assertEquals(6 * PAGE, d.peakBytes);
        assertEquals(4, d.exportedBuffers);
        assertEquals(1, exporter(100).buffers);
        assertEquals(PAGE, exporter(100).bytes);

        // the importer lets go of A's extras; the fd, vmap and mmap are undone too
        fx.imp.endCpuAccess(a, dmabuf.api.DmaDataDirection.FROM_DEVICE);
        fx.imp.vunmap(a, v);
        fx.imp.vunmap(a, v);
        m.close();
        fx.imp.close(impFd);
        fx.imp.put(a);
        imp = client(20);
        assertEquals(0, imp.openFds);
        assertEquals(0, imp.references);
        assertEquals(1, imp.attachments);
        assertEquals(0, imp.vmaps);
        assertEquals(0, imp.mmaps);
        assertEquals(0, imp.cpuAccessBrackets);

        fx.imp.detach(att);
        assertEquals(0, client(20).attachments);
        assertEquals(0, dto().attachments.length);

        // A's last reference (the exporter's) releases it
        fx.exp.put(a);
        d = dto();
        assertEquals(2, d.totalBuffers); // B and E
        assertEquals(3 * PAGE, d.totalBytes);
        assertEquals(2, d.releasedBuffers);
        assertEquals(1, opsA.count("release"));

        // B's fds close: released
        fx.exp.close(expFd);
        fx.exp.close(expFd + 1);
        fx.exp.put(e);
        d = dto();
        assertEquals(0, d.totalBuffers);
        assertEquals(0, d.totalBytes);
        assertEquals(6 * PAGE, d.peakBytes);
        assertEquals(4, d.exportedBuffers);
        assertEquals(4, d.releasedBuffers);
        assertEquals(0, client(10).openFds);
        assertEquals(0, client(10).exportedBuffers);
        assertEquals(0, client(10).exportedBytes);
        assertEquals(0, exporter(100).buffers);
    }

    @Test
    void exporterDtoCountsOnlyLiveBuffersOfItsService() {
        fx.registerExporter(100, "gpu0");
        fx.registerExporter(101, "gpu1");
        DmaBuf g0a = fx.exp.export(ExportInfo.builder(new TestExporter(PAGE), PAGE).exporter("gpu0").build());
        fx.exp.export(ExportInfo.builder(new TestExporter(2 * PAGE), 2 * PAGE).exporter("gpu0").build());
        fx.exp.export(ExportInfo.builder(new TestExporter(5 * PAGE), 5 * PAGE).exporter("gpu1").build());
        fx.export(new TestExporter(7 * PAGE), 7 * PAGE); // under the bundle's name, no service

        assertEquals(2, exporter(100).buffers);
        assertEquals(3 * PAGE, exporter(100).bytes);
        assertEquals(1, exporter(101).buffers);
        assertEquals(5 * PAGE, exporter(101).bytes);

        fx.imp.get(g0a);
        fx.exp.revoke(g0a);
        // revoked: still listed as a buffer, no longer counted for its exporter
        assertEquals(1, exporter(100).buffers);
        assertEquals(2 * PAGE, exporter(100).bytes);
        assertEquals(4, dto().totalBuffers);

        drivers.remove(Kind.EXPORTER, 101);
        assertNull(exporter(101));
        assertEquals(1, exporter(100).buffers);
    }
}
