package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaBufMapping;
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
import dmabuf.core.buffer.Buffer;

/** A bundle goes away holding things: the core reclaims each item and reports it once. */
class BundleDeathTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;

    /** Everything the importer holds of the "frame" buffer. */
    private static final class Scene {
        final CoreFixture fx;
        final TestExporter ops = new TestExporter(4 * PAGE);
        final List<DmaBufAttachment> invalidated = new CopyOnWriteArrayList<>();
        DmaBuf buf;
        int fd;
        DmaBufAttachment dyn;
        DmaBufAttachment stat;
        SgTable table;
        MemorySegment vmap;
        DmaBufMapping mapping;
        MemorySegment page;

        Scene(CoreFixture fx) {
            this.fx = fx;
            buf = fx.exp.export(ExportInfo.builder(ops, 4 * PAGE).name("frame").build());
            DmaBufRegistry imp = fx.imp;
            imp.get(buf);
            fd = imp.fd(buf, DmaBufUapi.O_RDWR);
            imp.get(buf);
            imp.get(buf);
            DmaBufImporterOps importerOps = invalidated::add;
            dyn = imp.dynamicAttach(buf, Device.of("gpu"), importerOps);
            table = imp.mapAttachment(dyn, DmaDataDirection.FROM_DEVICE);
            stat = imp.attach(buf, Device.of("display"));
            vmap = imp.vmap(buf);
            imp.vmap(buf);
            mapping = imp.mmap(fd, 0, 2 * PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE);
            imp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
            page = imp.kmap(buf, 2);
        }

        long refCount() {
            return CoreFixture.raw(buf).refCount();
        }
    }

    private static List<String> kinds(List<LeakDTO> leaks) {
        List<String> kinds = new ArrayList<>(leaks.stream().map(l -> l.kind).toList());
        kinds.sort(null);
        return kinds;
    }

    private static List<String> sorted(String... kinds) {
        List<String> l = new ArrayList<>(List.of(kinds));
        l.sort(null);
        return l;
    }

    private static ClientDTO client(CoreFixture fx, long bundleId) {
        return Arrays.stream(fx.core.snapshots().runtimeDTO().clients).filter(c -> c.bundleId == bundleId)
                .findFirst().orElse(null);
    }

    @Test
    void importerDeathReclaimsEveryItem() {
        CoreFixture fx = new CoreFixture();
        Scene s = new Scene(fx);
        assertEquals(5, s.refCount()); // exporter, 2 object refs, fd, mmap

        fx.core.closeClient(fx.impClient);

        assertEquals(1, s.ops.count("kunmap"));
        assertEquals(1, s.ops.count("end"));
        assertTrue(s.ops.directions.contains("end:TO_DEVICE"), s.ops.directions.toString());
        assertEquals(1, s.ops.count("vmap"));
        assertEquals(1, s.ops.count("vunmap"));
        assertEquals(1, s.ops.count("unmap"));
        assertTrue(s.ops.directions.contains("unmap:FROM_DEVICE"), s.ops.directions.toString());
        assertEquals(2, s.ops.count("detach"));
        assertEquals(0, s.ops.count("release"));
        // the importer was not told: it is the one that went away
        assertTrue(s.invalidated.isEmpty());
        assertFalse(s.dyn.isAttached());
        assertFalse(s.stat.isAttached());
        assertFalse(s.mapping.isMapped());

        // still alive for the exporter, with only its reference left
        assertEquals(1, s.refCount());
        BufferDTO dto = Arrays.stream(fx.core.snapshots().runtimeDTO().buffers).filter(b -> b.id == s.buf.id())
                .findFirst().orElseThrow();
        assertEquals(BufferDTO.STATE_LIVE, dto.state);
        assertEquals(1, dto.count);
        assertEquals(0, dto.vmapCount);
        assertEquals(0, dto.attachedDevices.length);
        assertEquals(null, client(fx, 20), "the departed bundle is no longer a client");
        // the exporter can still use it
        MemorySegment v = fx.exp.vmap(s.buf);
        fx.exp.vunmap(s.buf, v);

        fx.exp.put(s.buf);
        assertEquals(1, s.ops.count("release"));
        assertTrue(fx.core.buffers().all().isEmpty());
    }

    @Test
    void importerDeathReportsOneLeakPerItemKind() {
        CoreFixture fx = new CoreFixture();
        Scene s = new Scene(fx);

        fx.core.closeClient(fx.impClient);

        List<LeakDTO> leaks = fx.core.leaks().recent();
        assertEquals(sorted(LeakDTO.KIND_FD, LeakDTO.KIND_REFERENCE, LeakDTO.KIND_ATTACHMENT,
                LeakDTO.KIND_ATTACHMENT, LeakDTO.KIND_MAPPING, LeakDTO.KIND_VMAP, LeakDTO.KIND_MMAP,
                LeakDTO.KIND_CPU_ACCESS, LeakDTO.KIND_KMAP), kinds(leaks));
        for (LeakDTO l : leaks) {
            assertEquals(20, l.bundleId);
            assertEquals("importer.bundle", l.bundleSymbolicName);
            assertEquals(s.buf.id(), l.bufferId);
            assertEquals("frame", l.bufferName);
            assertEquals("exporter.bundle", l.exporterName);
        }
        assertEquals(9, fx.core.leaks().reportedCount());
        assertEquals(9, fx.core.snapshots().runtimeDTO().leaksReported);
        assertEquals(9, fx.core.snapshots().runtimeDTO().leaks.length);

        List<String> warnings = fx.log.warningsContaining("LEAK");
        assertEquals(9, warnings.size(), warnings.toString());
        for (String w : warnings) {
            assertTrue(w.contains("importer.bundle"), w);
            assertTrue(w.contains("dma-buf " + s.buf.id()), w);
            assertTrue(w.contains("frame"), w);
            assertTrue(w.contains("exporter.bundle"), w);
        }
        assertEquals(9, fx.log.warnings.size(), "nothing else warned: " + fx.log.warnings);
    }

    @Test
    void everyCallThroughClosedRegistryIsEnodev() {
        CoreFixture fx = new CoreFixture();
        Scene s = new Scene(fx);
        DmaBufRegistry imp = fx.imp;
        fx.core.closeClient(fx.impClient);
        int kmapsBefore = s.ops.count("kmap");

        List<Executable> calls = List.of(
                () -> imp.export(ExportInfo.builder(new TestExporter(PAGE), PAGE).build()),
                () -> imp.fd(s.buf, DmaBufUapi.O_RDWR),
                () -> imp.get(s.fd),
                () -> imp.get(s.buf),
                () -> imp.put(s.buf),
                () -> imp.dup(s.fd),
                () -> imp.close(s.fd),
                () -> imp.revoke(s.buf),
                () -> imp.invalidateMappings(s.buf),
                () -> imp.attach(s.buf, Device.of("late")),
                () -> imp.dynamicAttach(s.buf, Device.of("late"), a -> { }),
                () -> imp.detach(s.stat),
                () -> imp.pin(s.dyn),
                () -> imp.unpin(s.dyn),
                () -> imp.mapAttachment(s.dyn, DmaDataDirection.FROM_DEVICE),
                () -> imp.unmapAttachment(s.dyn, s.table, DmaDataDirection.FROM_DEVICE),
                () -> imp.beginCpuAccess(s.buf, DmaDataDirection.TO_DEVICE),
                () -> imp.beginCpuAccess(s.buf, DmaDataDirection.TO_DEVICE, 0, PAGE),
                () -> imp.endCpuAccess(s.buf, DmaDataDirection.TO_DEVICE),
                () -> imp.endCpuAccess(s.buf, DmaDataDirection.TO_DEVICE, 0, PAGE),
                () -> imp.kmap(s.buf, 0),
                () -> imp.kunmap(s.buf, 2, s.page),
                () -> imp.kmapAtomic(s.buf, 0),
                () -> imp.kunmapAtomic(s.buf, 0, s.page),
                () -> imp.vmap(s.buf),
                () -> imp.vunmap(s.buf, s.vmap),
                () -> imp.mmap(s.fd, 0, PAGE, DmaBufUapi.PROT_READ),
                () -> imp.mmap(s.buf, new VmArea(0, PAGE, DmaBufUapi.PROT_READ)),
                () -> imp.sync(s.fd, DmaBufUapi.DMA_BUF_SYNC_READ),
                () -> imp.setName(s.fd, "x"),
                () -> imp.ioctl(s.fd, DmaBufUapi.DMA_BUF_IOCTL_SYNC, DmaBufUapi.DMA_BUF_SYNC_READ),
                () -> imp.llseek(s.fd, 0, DmaBufUapi.SEEK_END),
                () -> imp.fdinfo(s.fd),
                () -> imp.bufinfo());
        for (int i = 0; i < calls.size(); i++) {
            int n = i;
            var e = assertThrows(dmabuf.api.DmaBufException.class, calls.get(i), () -> "call #" + n);
            assertEquals(Errno.ENODEV, e.errno(), () -> "call #" + n + ": " + e.getMessage());
        }
        // nothing reached the exporter and nothing changed
        assertEquals(kmapsBefore, s.ops.count("kmap"));
        assertEquals(1, s.ops.count("vmap"));
        assertEquals(1, s.ops.count("begin"));
        assertEquals(1, s.refCount());
        assertEquals("frame", s.buf.name().orElseThrow());
    }

    @Test
    void closingTwiceReportsNothingNew() {
        CoreFixture fx = new CoreFixture();
        Scene s = new Scene(fx);
        fx.core.closeClient(fx.impClient);
        int warnings = fx.log.warnings.size();
        long reported = fx.core.leaks().reportedCount();

        fx.core.closeClient(fx.impClient);

        assertEquals(warnings, fx.log.warnings.size());
        assertEquals(reported, fx.core.leaks().reportedCount());
        assertEquals(9, fx.core.leaks().recent().size());
        assertEquals(2, s.ops.count("detach"));
        assertEquals(1, s.ops.count("vunmap"));
        assertEquals(1, s.refCount());
    }

    @Test
    void exporterDeathRevokesItsBuffersAndReportsItsOwnRefs() {
        CoreFixture fx = new CoreFixture();
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.exp.export(ExportInfo.builder(ops, PAGE).name("frame").build());
        int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
        List<DmaBufAttachment> invalidated = new CopyOnWriteArrayList<>();
        DmaBufAttachment att = fx.imp.dynamicAttach(buf, Device.of("gpu"), invalidated::add);
        SgTable table = fx.imp.mapAttachment(att, DmaDataDirection.BIDIRECTIONAL);
        fx.exp.get(buf); // the exporter holds 2 references

        fx.core.closeClient(fx.expClient);

        assertEquals(List.of(att), invalidated);
        assertEquals(1, ops.count("release"));
        assertEquals(1, ops.count("unmap"));
        assertEquals(1, ops.count("detach"));
        assertErrno(Errno.ENODEV, () -> fx.imp.get(fd));
        assertErrno(Errno.ENODEV, () -> fx.imp.mapAttachment(att, DmaDataDirection.BIDIRECTIONAL));
        assertErrno(Errno.ENODEV, () -> fx.imp.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ));
        assertErrno(Errno.ENODEV, () -> fx.imp.attach(buf, Device.of("late")));

        List<LeakDTO> leaks = fx.core.leaks().recent();
        assertEquals(List.of(LeakDTO.KIND_REFERENCE), leaks.stream().map(l -> l.kind).toList());
        assertEquals(10, leaks.get(0).bundleId);
        assertTrue(leaks.get(0).detail.contains("2"), leaks.get(0).detail);
        List<String> warnings = fx.log.warningsContaining("LEAK");
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("exporter.bundle"), warnings.get(0));
        assertTrue(warnings.get(0).contains("frame"), warnings.get(0));

        // the importer's fd keeps the revoked buffer listed until it cleans up
        assertEquals(1, CoreFixture.raw(buf).refCount());
        assertEquals(BufferDTO.STATE_REVOKED, fx.core.snapshots().runtimeDTO().buffers[0].state);
        fx.imp.unmapAttachment(att, table, DmaDataDirection.BIDIRECTIONAL);
        fx.imp.detach(att);
        fx.imp.close(fd);
        assertTrue(fx.core.buffers().all().isEmpty());
        assertEquals(1, ops.count("release"));
        assertEquals(1, ops.count("detach"));
    }

    @Test
    void disabledLevelReportsNothingButStillReclaims() {
        CoreFixture fx = new CoreFixture(CoreConfig.DEFAULTS.withLeakReportLevel(LeakReportLevel.DISABLED));
        Scene s = new Scene(fx);

        fx.core.closeClient(fx.impClient);

        assertTrue(fx.core.leaks().recent().isEmpty());
        assertEquals(0, fx.core.leaks().reportedCount());
        assertEquals(0, fx.core.snapshots().runtimeDTO().leaks.length);
        assertTrue(fx.log.warningsContaining("LEAK").isEmpty(), fx.log.warnings.toString());
        assertEquals(1, s.ops.count("kunmap"));
        assertEquals(1, s.ops.count("end"));
        assertEquals(1, s.ops.count("vunmap"));
        assertEquals(1, s.ops.count("unmap"));
        assertEquals(2, s.ops.count("detach"));
        assertEquals(1, s.refCount());
        fx.exp.put(s.buf);
        assertEquals(1, s.ops.count("release"));
    }

    @Test
    void advancedLevelAddsTheExportStack() {
        CoreFixture fx = new CoreFixture(CoreConfig.DEFAULTS.withLeakReportLevel(LeakReportLevel.ADVANCED));
        Scene s = new Scene(fx);

        fx.core.closeClient(fx.impClient);

        List<String> warnings = fx.log.warningsContaining("LEAK");
        assertEquals(9, warnings.size());
        for (String w : warnings) {
            assertTrue(w.contains("exported here"), w);
            assertTrue(w.contains("dma-buf " + s.buf.id()), w);
            assertTrue(w.contains(BundleDeathTest.class.getName()) || w.contains("Scene"), w);
        }
    }

    @Test
    void simpleLevelHasNoStack() {
        CoreFixture fx = new CoreFixture(CoreConfig.DEFAULTS.withLeakReportLevel(LeakReportLevel.SIMPLE));
        new Scene(fx);
        fx.core.closeClient(fx.impClient);
        for (String w : fx.log.warningsContaining("LEAK")) {
            assertFalse(w.contains("exported here"), w);
        }
    }

    @Test
    void exporterKeepsUsingBufferAfterImporterDeath() {
        // reclaiming the importer's items must not invalidate the buffer for the exporter
        CoreFixture fx = new CoreFixture();
        Scene s = new Scene(fx);
        fx.core.closeClient(fx.impClient);
        MemorySegment v = fx.exp.vmap(s.buf);
        v.set(ValueLayout.JAVA_INT, 0, 7);
        assertEquals(7, s.ops.storage.get(ValueLayout.JAVA_INT, 0));
        fx.exp.vunmap(s.buf, v);
        fx.exp.put(s.buf);
        assertThrows(IllegalStateException.class, () -> v.get(ValueLayout.JAVA_INT, 0));
    }
}
