package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.core.drivers.DriverTracker;

/** Revocation by the owner, by the exporter service going away, and at core shutdown. */
class RevokeTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;

    /** Importer callbacks that record every call. */
    static final class RecordingImporter implements DmaBufImporterOps {
        final List<DmaBufAttachment> calls = new CopyOnWriteArrayList<>();

        @Override
        public void invalidateMappings(DmaBufAttachment attachment) {
            calls.add(attachment);
        }
    }

    private CoreFixture fx;

    @BeforeEach
    void setUp() {
        fx = new CoreFixture();
    }

    private BufferDTO dtoOf(DmaBuf buf) {
        RuntimeDTO dto = fx.core.snapshots().runtimeDTO();
        return Arrays.stream(dto.buffers).filter(b -> b.id == buf.id()).findFirst().orElse(null);
    }

    private boolean listed(DmaBuf buf) {
        return fx.core.buffers().all().stream().anyMatch(b -> b.id() == buf.id());
    }

    @Test
    void ownerRevokeNotifiesDynamicImporterOnceAndDetachesStaticOne() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.exportShared(ops, 2 * PAGE);
        RecordingImporter importer = new RecordingImporter();
        DmaBufAttachment dyn = fx.imp.dynamicAttach(buf, Device.of("gpu"), importer);
        DmaBufAttachment stat = fx.imp.attach(buf, Device.of("display"));
        SgTable table = fx.imp.mapAttachment(dyn, DmaDataDirection.FROM_DEVICE);
        assertNotNull(table);

        fx.exp.revoke(buf);

        assertEquals(List.of(dyn), importer.calls);
        assertFalse(dyn.isAttached());
        assertFalse(stat.isAttached());
        // the core unmapped the importer's table (with its direction) and detached both attachments
        assertEquals(1, ops.count("unmap"));
        assertTrue(ops.directions.contains("unmap:FROM_DEVICE"), ops.directions.toString());
        assertEquals(2, ops.count("detach"));
        assertEquals(1, ops.count("release"));
        assertEquals(0, fx.core.snapshots().runtimeDTO().attachments.length);
    }

    @Test
    void everyOperationOnRevokedBufferIsEnodevForEveryone() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.exportShared(ops, 2 * PAGE);
        fx.imp.get(buf);
        int fd = fx.imp.fd(buf, DmaBufUapi.O_RDWR);
        DmaBufAttachment att = fx.imp.attach(buf, Device.of("gpu"));
        fx.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        int expFd = fx.exp.fd(fx.exp.get(buf), DmaBufUapi.O_RDWR);

        fx.exp.revoke(buf);
        int mapsBefore = ops.count("map");

        for (var r : List.of(fx.exp, fx.imp)) {
            assertErrno(Errno.ENODEV, () -> r.get(buf));
            assertErrno(Errno.ENODEV, () -> r.fd(buf, DmaBufUapi.O_RDWR));
            assertErrno(Errno.ENODEV, () -> r.attach(buf, Device.of("late")));
            assertErrno(Errno.ENODEV, () -> r.dynamicAttach(buf, Device.of("late"), new RecordingImporter()));
            assertErrno(Errno.ENODEV, () -> r.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE));
            assertErrno(Errno.ENODEV, () -> r.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE, 0, PAGE));
            assertErrno(Errno.ENODEV, () -> r.vmap(buf));
            // a bracket opened before the revoke does not make kmap possible
            assertErrno(Errno.ENODEV, () -> r.kmap(buf, 0));
            assertErrno(Errno.ENODEV, () -> r.kmapAtomic(buf, 0));
            assertErrno(Errno.ENODEV, () -> r.mmap(buf, new VmArea(0, PAGE, DmaBufUapi.PROT_READ)));
        }
        assertErrno(Errno.ENODEV, () -> fx.imp.get(fd));
        assertErrno(Errno.ENODEV, () -> fx.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE));
        assertErrno(Errno.ENODEV, () -> fx.imp.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ));
        assertErrno(Errno.ENODEV, () -> fx.exp.mmap(expFd, 0, PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE));
        assertErrno(Errno.ENODEV, () -> fx.imp.setName(fd, "late"));
        assertErrno(Errno.ENODEV, () -> fx.exp.ioctl(expFd, DmaBufUapi.DMA_BUF_SET_NAME_B, "late"));
        assertErrno(Errno.ENODEV, () -> fx.imp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_WRITE));
        assertErrno(Errno.ENODEV, () -> fx.exp.invalidateMappings(buf));
        // a third bundle that only has the object
        assertErrno(Errno.ENODEV, () -> fx.bundle(30, "third.bundle").get(buf));

        assertEquals(mapsBefore, ops.count("map"));
        assertEquals(2, ops.count("begin"));
        assertEquals(0, ops.count("vmap"));
        assertEquals(0, ops.count("kmap"));
        assertEquals(0, ops.count("kmapAtomic"));
        assertEquals(0, ops.count("mmap"));
        assertEquals(1, ops.count("attach"));
        assertTrue(buf.name().isEmpty());
    }

    @Test
    void cleanupCallsSucceedAfterRevokeWithoutReachingExporter() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.exportShared(ops, 2 * PAGE);
        fx.imp.get(buf);
        int fd = fx.imp.fd(buf, DmaBufUapi.O_RDWR);
        DmaBufAttachment att = fx.imp.dynamicAttach(buf, Device.of("gpu"), new RecordingImporter());
        SgTable table = fx.imp.mapAttachment(att, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment vmap = fx.imp.vmap(buf);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        MemorySegment page = fx.imp.kmap(buf, 1);
        DmaBufMapping mapping = fx.imp.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ);
        assertEquals(4, CoreFixture.raw(buf).refCount()); // exp, imp obj, fd, mmap

        fx.exp.revoke(buf);
        assertEquals(1, ops.count("release"));
        assertEquals(1, ops.count("unmap"));
        assertEquals(1, ops.count("detach"));
        assertEquals(1, ops.count("vunmap")); // the core undid the vmap at revoke
        int ends = ops.count("end");
        int kunmaps = ops.count("kunmap");

        fx.imp.unmapAttachment(att, table, DmaDataDirection.BIDIRECTIONAL);
        fx.imp.detach(att);
        fx.imp.vunmap(buf, vmap);
        fx.imp.kunmap(buf, 1, page);
        fx.imp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        mapping.close();
        assertFalse(mapping.isMapped());
        fx.imp.close(fd);
        fx.imp.put(buf);
        assertTrue(listed(buf), "the exporter still holds its reference");
        fx.exp.put(buf);

        // none of it reached the exporter again
        assertEquals(1, ops.count("unmap"));
        assertEquals(1, ops.count("detach"));
        assertEquals(1, ops.count("vunmap"));
        assertEquals(ends, ops.count("end"));
        assertEquals(kunmaps, ops.count("kunmap"));
        assertEquals(1, ops.count("release"));
        assertFalse(listed(buf));
        // each cleanup undid exactly one thing: a second round is refused
        assertErrno(Errno.EINVAL, () -> fx.imp.detach(att));
        assertErrno(Errno.EBADF, () -> fx.imp.close(fd));
    }

    @Test
    void releaseRunsOnceAtRevokeAndNeverAgain() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.exportShared(ops, PAGE);
        fx.imp.get(buf);

        fx.exp.revoke(buf);
        assertEquals(1, ops.count("release"));
        fx.imp.put(buf);
        fx.exp.put(buf);
        assertEquals(1, ops.count("release"));
        assertTrue(listed(buf));
        fx.imp.put(buf);
        assertEquals(1, ops.count("release"));
        assertFalse(listed(buf));
        // no reference is left to put
        assertErrno(Errno.EINVAL, () -> fx.exp.put(buf));
    }

    @Test
    void staleCpuViewsThrowIllegalStateException() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.exportShared(ops, 2 * PAGE);
        int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
        MemorySegment vmap = fx.imp.vmap(buf);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment page = fx.imp.kmap(buf, 0);
        MemorySegment atomic = fx.imp.kmapAtomic(buf, 1);
        DmaBufMapping mapping = fx.imp.mmap(fd, PAGE, PAGE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE);
        // all usable before
        vmap.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        page.set(ValueLayout.JAVA_BYTE, 1, (byte) 2);
        mapping.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 3);
        assertEquals(3, atomic.get(ValueLayout.JAVA_BYTE, 0));

        fx.exp.revoke(buf);

        assertThrows(IllegalStateException.class, () -> vmap.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> vmap.set(ValueLayout.JAVA_BYTE, 0, (byte) 9));
        assertThrows(IllegalStateException.class, () -> page.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> atomic.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> mapping.segment().get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> mapping.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 9));
        // nothing was written through a stale view
        assertEquals(1, ops.storage.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(3, ops.storage.get(ValueLayout.JAVA_BYTE, PAGE));
        fx.imp.kunmapAtomic(buf, 1, atomic);
    }

    @Test
    void runtimeDtoShowsRevokedUntilLastReferenceGoes() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.exportShared(ops, PAGE);
        assertEquals(BufferDTO.STATE_LIVE, dtoOf(buf).state);

        fx.exp.revoke(buf);
        BufferDTO revoked = dtoOf(buf);
        assertNotNull(revoked);
        assertEquals(BufferDTO.STATE_REVOKED, revoked.state);
        assertEquals(2, revoked.count);

        fx.exp.put(buf);
        assertEquals(BufferDTO.STATE_REVOKED, dtoOf(buf).state);
        assertEquals(1, dtoOf(buf).count);
        assertTrue(fx.exp.bufinfo().contains("(revoked)"), fx.exp.bufinfo());

        fx.imp.put(buf);
        assertNull(dtoOf(buf));
        assertFalse(fx.exp.bufinfo().contains("(revoked)"));
    }

    @Test
    void revokeByNonOwnerIsEpermAndChangesNothing() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.exportShared(ops, PAGE);
        RecordingImporter importer = new RecordingImporter();
        DmaBufAttachment att = fx.imp.dynamicAttach(buf, Device.of("gpu"), importer);

        assertErrno(Errno.EPERM, () -> fx.imp.revoke(buf));
        assertErrno(Errno.EPERM, () -> fx.bundle(30, "third.bundle").revoke(buf));

        assertEquals(0, ops.count("release"));
        assertTrue(importer.calls.isEmpty());
        assertTrue(att.isAttached());
        assertEquals(BufferDTO.STATE_LIVE, dtoOf(buf).state);
        assertSame(buf, fx.imp.get(buf));
    }

    @Test
    void revokeTwiceIsNoOp() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.exportShared(ops, PAGE);
        RecordingImporter importer = new RecordingImporter();
        fx.imp.dynamicAttach(buf, Device.of("gpu"), importer);

        fx.exp.revoke(buf);
        fx.exp.revoke(buf);

        assertEquals(1, ops.count("release"));
        assertEquals(1, ops.count("detach"));
        assertEquals(1, importer.calls.size());
        assertEquals(BufferDTO.STATE_REVOKED, dtoOf(buf).state);
    }

    @Test
    void exporterServiceRemovalRevokesItsBuffersOnly() {
        fx.registerExporter(100, "gpu0");
        TestExporter gpuOps = new TestExporter(PAGE);
        TestExporter plainOps = new TestExporter(PAGE);
        DmaBuf gpu = fx.exp.export(ExportInfo.builder(gpuOps, PAGE).exporter("gpu0").build());
        DmaBuf plain = fx.exp.export(ExportInfo.builder(plainOps, PAGE).build());
        assertEquals("gpu0", gpu.exporterName());
        assertEquals("exporter.bundle", plain.exporterName());
        fx.imp.get(gpu);
        fx.imp.get(plain);
        RecordingImporter importer = new RecordingImporter();
        fx.imp.dynamicAttach(gpu, Device.of("display"), importer);

        fx.core.drivers().remove(DriverTracker.Kind.EXPORTER, 100);

        assertEquals(1, gpuOps.count("release"));
        assertEquals(1, importer.calls.size());
        assertErrno(Errno.ENODEV, () -> fx.imp.get(gpu));
        assertErrno(Errno.ENODEV, () -> fx.imp.vmap(gpu));
        assertEquals(BufferDTO.STATE_REVOKED, dtoOf(gpu).state);

        assertEquals(0, plainOps.count("release"));
        assertSame(plain, fx.imp.get(plain));
        MemorySegment v = fx.imp.vmap(plain);
        fx.imp.vunmap(plain, v);
        assertEquals(BufferDTO.STATE_LIVE, dtoOf(plain).state);
        // the name is gone too: no new export under it
        assertErrno(Errno.EINVAL,
                () -> fx.exp.export(ExportInfo.builder(new TestExporter(PAGE), PAGE).exporter("gpu0").build()));
    }

    @Test
    void exporterServiceModificationRevokesNothing() {
        fx.registerExporter(100, "gpu0");
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf gpu = fx.exp.export(ExportInfo.builder(ops, PAGE).exporter("gpu0").build());
        RecordingImporter importer = new RecordingImporter();
        fx.imp.get(gpu);
        fx.imp.dynamicAttach(gpu, Device.of("display"), importer);

        fx.core.drivers().modified(DriverTracker.Kind.EXPORTER, 100, 10,
                Map.of(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, "card1",
                        DmaBufExporter.CAPABILITIES, "vmap"));

        assertEquals(0, ops.count("release"));
        assertTrue(importer.calls.isEmpty());
        assertEquals(BufferDTO.STATE_LIVE, dtoOf(gpu).state);
        MemorySegment v = fx.imp.vmap(gpu);
        fx.imp.vunmap(gpu, v);
        RuntimeDTO dto = fx.core.snapshots().runtimeDTO();
        assertEquals(1, dto.exporters.length);
        assertEquals("card1", dto.exporters[0].device);
        assertEquals(1, dto.exporters[0].buffers);
        // and a later removal still revokes it
        fx.core.drivers().remove(DriverTracker.Kind.EXPORTER, 100);
        assertEquals(1, ops.count("release"));
        assertErrno(Errno.ENODEV, () -> fx.imp.get(gpu));
    }

    @Test
    void shutdownRevokesAndReleasesEveryBufferOnce() {
        TestExporter shared = new TestExporter(PAGE);
        TestExporter own = new TestExporter(2 * PAGE);
        TestExporter early = new TestExporter(PAGE);
        TestExporter byThird = new TestExporter(PAGE);
        DmaBuf a = fx.exportShared(shared, PAGE);
        int fd = fx.imp.fd(fx.imp.get(a), DmaBufUapi.O_RDONLY);
        RecordingImporter importer = new RecordingImporter();
        DmaBufAttachment att = fx.imp.dynamicAttach(a, Device.of("gpu"), importer);
        fx.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE);
        DmaBufMapping mapping = fx.imp.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ);
        DmaBuf b = fx.export(own, 2 * PAGE);
        MemorySegment v = fx.exp.vmap(b);
        DmaBuf c = fx.exportShared(early, PAGE);
        fx.exp.revoke(c);
        DmaBuf d = fx.bundle(30, "third.bundle").export(ExportInfo.builder(byThird, PAGE).build());
        fx.imp.get(d);
        fx.exp.get(d);

        fx.core.shutdown();

        for (TestExporter ops : List.of(shared, own, early, byThird)) {
            assertEquals(1, ops.count("release"));
        }
        assertEquals(1, importer.calls.size());
        assertEquals(1, shared.count("unmap"));
        assertEquals(1, shared.count("detach"));
        assertEquals(1, own.count("vunmap"));
        assertTrue(fx.core.buffers().all().isEmpty(), () -> fx.core.buffers().all().toString());
        assertThrows(IllegalStateException.class, () -> v.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> mapping.segment().get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(0, fx.core.snapshots().runtimeDTO().buffers.length);
        assertThrows(IllegalStateException.class, () -> fx.core.openClient(40, "late.bundle"));
        assertErrno(Errno.ENODEV, () -> fx.imp.get(fd));
        assertErrno(Errno.ENODEV, () -> fx.exp.get(b));
    }
}
