package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.runtime.AttachmentDTO;
import dmabuf.api.runtime.RuntimeDTO;

/** Attach, detach, map, unmap, table checks, cached tables, pin/unpin and invalidateMappings. */
class AttachmentTest {
    private static final long SIZE = 16 * DmaBufUapi.PAGE_SIZE;

    private final CoreFixture f = new CoreFixture();

    private RuntimeDTO dto() {
        return f.core.snapshots().runtimeDTO();
    }

    private AttachmentDTO onlyAttachment() {
        AttachmentDTO[] all = dto().attachments;
        assertEquals(1, all.length, () -> "attachments: " + Arrays.toString(all));
        return all[0];
    }

    private static DmaBufImporterOps noopImporter() {
        return a -> {
        };
    }

    // ---- attach ---------------------------------------------------------------------------------------------------

    @Test
    void attachWithNullDeviceIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        assertErrno(Errno.EINVAL, () -> f.imp.attach(buf, null));
        assertEquals(0, ops.count("attach"));
        assertEquals(0, dto().attachments.length);
    }

    @Test
    void exporterRefusingAttachPassesItsErrnoAndLinksNothing() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        ops.attachFailure = new DmaBufException(Errno.EBUSY, "storage cannot meet the device");

        assertErrno(Errno.EBUSY, () -> f.imp.attach(buf, Device.of("refused-dev")));

        assertEquals(1, ops.count("attach"));
        assertEquals(0, ops.count("detach"), "exporter detach must not run for an attach it refused");
        RuntimeDTO dto = dto();
        assertEquals(0, dto.attachments.length);
        assertEquals(0, dto.buffers[0].attachedDevices.length);
        String info = f.imp.bufinfo();
        assertFalse(info.contains("refused-dev"), info);
        assertTrue(info.contains("Total 0 devices attached"), info);
        assertTrue(f.log.errors.isEmpty(), "a refusal is not a driver bug: " + f.log.errors);
    }

    @Test
    void exporterAttachThrowingRuntimeExceptionIsEioAndLogged() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        ops.attachFailure = new IllegalStateException("driver bug in attach");

        DmaBufException e = assertErrno(Errno.EIO, () -> f.imp.attach(buf, Device.of("dev")));

        assertTrue(e.getCause() instanceof IllegalStateException, "cause: " + e.getCause());
        assertEquals(1, f.log.errors.size(), () -> "errors: " + f.log.errors);
        assertTrue(f.log.errors.get(0).contains("IllegalStateException"), f.log.errors.get(0));
        assertEquals(0, ops.count("detach"));
        assertEquals(0, dto().attachments.length);
    }

    // ---- map / unmap ----------------------------------------------------------------------------------------------

    @Test
    void mapAndUnmapPassTheDirectionThrough() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("dev"));

        SgTable t1 = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        SgTable t2 = f.imp.mapAttachment(a, DmaDataDirection.FROM_DEVICE);
        SgTable t3 = f.imp.mapAttachment(a, DmaDataDirection.BIDIRECTIONAL);
        f.imp.unmapAttachment(a, t2, DmaDataDirection.FROM_DEVICE);
        f.imp.unmapAttachment(a, t1, DmaDataDirection.TO_DEVICE);
        f.imp.unmapAttachment(a, t3, DmaDataDirection.BIDIRECTIONAL);

        assertEquals(List.of("map:TO_DEVICE", "map:FROM_DEVICE", "map:BIDIRECTIONAL", "unmap:FROM_DEVICE",
                "unmap:TO_DEVICE", "unmap:BIDIRECTIONAL"), ops.directions);
        assertEquals(SIZE, t1.totalLength());
    }

    @Test
    void mapWithNoneOrNullDirectionIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("dev"));

        assertErrno(Errno.EINVAL, () -> f.imp.mapAttachment(a, DmaDataDirection.NONE));
        assertErrno(Errno.EINVAL, () -> f.imp.mapAttachment(a, null));
        assertEquals(0, ops.count("map"));
        assertEquals(0, onlyAttachment().mappedTables);
    }

    @Test
    void unmapOfATableNeverMappedIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("dev"));
        SgTable mapped = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        // equal in value to the mapped one, but not the very object map returned
        SgTable lookalike = new SgTable(mapped.entries());
        assertEquals(mapped, lookalike);

        assertErrno(Errno.EINVAL, () -> f.imp.unmapAttachment(a, lookalike, DmaDataDirection.TO_DEVICE));
        assertErrno(Errno.EINVAL, () -> f.imp.unmapAttachment(a,
                SgTable.contiguous(0x1234_0000L, SIZE), DmaDataDirection.TO_DEVICE));

        assertEquals(0, ops.count("unmap"));
        assertEquals(1, onlyAttachment().mappedTables);
    }

    @Test
    void unmapTwiceIsEinvalTheSecondTime() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("dev"));
        SgTable t = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);

        f.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE);
        assertErrno(Errno.EINVAL, () -> f.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE));

        assertEquals(1, ops.count("unmap"));
        assertEquals(0, onlyAttachment().mappedTables);
    }

    // ---- detach ---------------------------------------------------------------------------------------------------

    @Test
    void detachOfMappedAttachmentUnmapsEachTableWithItsDirectionThenDetachesOnce() {
        TestExporter ops = new TestExporter(SIZE) {
            @Override
            public void detach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
                directions.add("detach");
                super.detach(dmaBuf, attachment);
            }
        };
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("dev"));
        f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        f.imp.mapAttachment(a, DmaDataDirection.FROM_DEVICE);
        assertEquals(2, onlyAttachment().mappedTables);

        f.imp.detach(a);

        assertEquals(List.of("map:TO_DEVICE", "map:FROM_DEVICE", "unmap:TO_DEVICE", "unmap:FROM_DEVICE", "detach"),
                ops.directions);
        assertEquals(2, ops.count("unmap"));
        assertEquals(1, ops.count("detach"));
        assertFalse(a.isAttached());
        assertEquals(0, dto().attachments.length);
    }

    @Test
    void detachTwiceIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("dev"));

        f.imp.detach(a);
        assertErrno(Errno.EINVAL, () -> f.imp.detach(a));

        assertEquals(1, ops.count("attach"));
        assertEquals(1, ops.count("detach"));
    }

    @Test
    void anotherBundlesAttachmentIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("dev"));
        SgTable t = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        DmaBufRegistry other = f.bundle(30, "other.bundle");

        assertErrno(Errno.EINVAL, () -> f.exp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
        assertErrno(Errno.EINVAL, () -> other.mapAttachment(a, DmaDataDirection.FROM_DEVICE));
        assertErrno(Errno.EINVAL, () -> other.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE));
        assertErrno(Errno.EINVAL, () -> f.exp.detach(a));
        assertErrno(Errno.EINVAL, () -> other.detach(a));

        assertEquals(1, ops.count("map"));
        assertEquals(0, ops.count("unmap"));
        assertEquals(0, ops.count("detach"));
        assertTrue(a.isAttached());
        AttachmentDTO dto = onlyAttachment();
        assertEquals(20, dto.bundleId);
        assertEquals(1, dto.mappedTables);

        f.imp.detach(a); // the owner still can
        assertEquals(1, ops.count("detach"));
    }

    // ---- table checks ---------------------------------------------------------------------------------------------

    /** Maps with a table the device cannot use: EIO, the exporter's unmap is called back, nothing stays mapped. */
    private void assertRejectedTable(TestExporter ops, Device device) {
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, device);

        assertErrno(Errno.EIO, () -> f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertEquals(1, ops.count("map"));
        assertEquals(1, ops.count("unmap"), "the rejected table must be given back to the exporter");
        assertEquals(List.of("map:TO_DEVICE", "unmap:TO_DEVICE"), ops.directions);
        assertEquals(0, onlyAttachment().mappedTables);
        assertTrue(a.isAttached());

        // nothing to unmap at detach: the rejected table is not held
        f.imp.detach(a);
        assertEquals(1, ops.count("unmap"));
    }

    @Test
    void scatteredTableForContiguousDeviceIsEio() {
        TestExporter ops = new TestExporter(SIZE);
        ops.segments = 4;
        assertRejectedTable(ops, Device.of("scanout").withContiguous(true));
    }

    @Test
    void scatteredTableIsFineForDeviceWithoutConstraints() {
        TestExporter ops = new TestExporter(SIZE);
        ops.segments = 4;
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("iommu-dev"));
        SgTable t = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        assertEquals(4, t.nents());
        assertEquals(0, ops.count("unmap"));
    }

    @Test
    void segmentAboveThe32BitMaskIsEio() {
        TestExporter ops = new TestExporter(SIZE, 0x1_0000_0000L);
        assertRejectedTable(ops, Device.of("d").withDmaMask(Device.DMA_MASK_32));
    }

    @Test
    void segmentBelowThe32BitMaskIsAccepted() {
        TestExporter ops = new TestExporter(SIZE, 0xFFFF_0000L - SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d").withDmaMask(Device.DMA_MASK_32));
        assertNotNull(f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
        assertEquals(0, ops.count("unmap"));
    }

    @Test
    void tooManySegmentsIsEio() {
        TestExporter ops = new TestExporter(SIZE);
        ops.segments = 4;
        assertRejectedTable(ops, Device.of("d").withSegmentLimits(Long.MAX_VALUE, 2));
    }

    @Test
    void segmentLongerThanMaxSegmentSizeIsEio() {
        TestExporter ops = new TestExporter(SIZE); // one contiguous segment of 16 pages
        assertRejectedTable(ops, Device.of("d").withSegmentLimits(4 * DmaBufUapi.PAGE_SIZE, Integer.MAX_VALUE));
    }

    @Test
    void tableShorterThanTheBufferIsEio() {
        TestExporter ops = new TestExporter(SIZE);
        ops.tableOverride = a -> SgTable.contiguous(ops.dmaAddress, SIZE - DmaBufUapi.PAGE_SIZE);
        assertRejectedTable(ops, Device.of("d"));
    }

    @Test
    void tableLongerThanThePageAlignedBufferIsEio() {
        TestExporter ops = new TestExporter(SIZE);
        ops.tableOverride = a -> SgTable.contiguous(ops.dmaAddress, SIZE + DmaBufUapi.PAGE_SIZE);
        assertRejectedTable(ops, Device.of("d"));
    }

    @Test
    void nullTableIsEnomem() {
        TestExporter ops = new TestExporter(SIZE);
        ops.tableOverride = a -> null;
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));

        assertErrno(Errno.ENOMEM, () -> f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertEquals(1, ops.count("map"));
        assertEquals(0, ops.count("unmap"));
        assertEquals(0, onlyAttachment().mappedTables);
    }

    @Test
    void exporterMapThrowingRuntimeExceptionIsEio() {
        TestExporter ops = new TestExporter(SIZE);
        ops.mapFailure = new IllegalArgumentException("driver bug in map");
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));

        assertErrno(Errno.EIO, () -> f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));

        assertEquals(1, f.log.errors.size(), () -> "errors: " + f.log.errors);
        assertEquals(0, onlyAttachment().mappedTables);
        // the lock was released and the attachment still works once the exporter behaves
        ops.mapFailure = null;
        assertNotNull(f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
        assertEquals(1, onlyAttachment().mappedTables);
    }

    @Test
    void exporterMapRefusalPassesThrough() {
        TestExporter ops = new TestExporter(SIZE);
        ops.mapFailure = new DmaBufException(Errno.EAGAIN, "no IOVA space");
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));

        assertErrno(Errno.EAGAIN, () -> f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
        assertTrue(f.log.errors.isEmpty(), () -> "errors: " + f.log.errors);
    }

    // ---- cacheSgtMapping ------------------------------------------------------------------------------------------

    @Test
    void cachingExporterReturnsTheSameTableForTheSameDirection() {
        TestExporter ops = new TestExporter.Caching(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));

        SgTable first = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        SgTable second = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);

        assertSame(first, second);
        assertEquals(1, ops.count("map"));
    }

    @Test
    void cachingExporterRefusesAnotherDirection() {
        TestExporter ops = new TestExporter.Caching(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));
        f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);

        assertErrno(Errno.EBUSY, () -> f.imp.mapAttachment(a, DmaDataDirection.FROM_DEVICE));
        assertErrno(Errno.EBUSY, () -> f.imp.mapAttachment(a, DmaDataDirection.BIDIRECTIONAL));

        assertEquals(1, ops.count("map"));
    }

    @Test
    void cachedBidirectionalTableServesOtherDirections() {
        TestExporter ops = new TestExporter.Caching(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));

        SgTable bidi = f.imp.mapAttachment(a, DmaDataDirection.BIDIRECTIONAL);
        assertSame(bidi, f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
        assertSame(bidi, f.imp.mapAttachment(a, DmaDataDirection.FROM_DEVICE));

        assertEquals(1, ops.count("map"));
        assertEquals(List.of("map:BIDIRECTIONAL"), ops.directions);
    }

    @Test
    void unmapOfCachedTableIsANoOpAndDetachUnmapsItOnce() {
        TestExporter ops = new TestExporter.Caching(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));
        SgTable t = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);

        f.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE);
        f.imp.unmapAttachment(a, t, DmaDataDirection.TO_DEVICE);

        assertEquals(0, ops.count("unmap"));
        assertEquals(1, onlyAttachment().mappedTables);
        // still cached: mapping again does not reach the exporter
        assertSame(t, f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE));
        assertEquals(1, ops.count("map"));

        f.imp.detach(a);

        assertEquals(1, ops.count("unmap"));
        assertEquals(List.of("map:TO_DEVICE", "unmap:TO_DEVICE"), ops.directions);
        assertEquals(1, ops.count("detach"));
    }

    // ---- dynamic exporters and importers --------------------------------------------------------------------------

    @Test
    void staticAttachToDynamicExporterPinsAtAttachAndUnpinsAtDetach() {
        TestExporter ops = new TestExporter.Dynamic(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);

        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));
        assertEquals(1, ops.count("pin"));
        assertEquals(0, ops.count("unpin"));
        assertEquals(1, onlyAttachment().pins);

        f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
        assertEquals(1, ops.count("pin"), "map must not pin again for a core-pinned attachment");

        f.imp.detach(a);
        assertEquals(1, ops.count("pin"));
        assertEquals(1, ops.count("unpin"));
        assertEquals(1, ops.count("detach"));
    }

    @Test
    void dynamicAttachToDynamicExporterDoesNotPin() {
        TestExporter ops = new TestExporter.Dynamic(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.dynamicAttach(buf, Device.of("d"), noopImporter());
        assertTrue(a.isDynamic());
        f.imp.detach(a);
        assertEquals(0, ops.count("pin"));
        assertEquals(0, ops.count("unpin"));
    }

    @Test
    void dynamicAttachNeedsImporterOps() {
        TestExporter ops = new TestExporter.Dynamic(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);

        assertErrno(Errno.EINVAL, () -> f.imp.dynamicAttach(buf, Device.of("d"), null));

        assertEquals(0, ops.count("attach"));
        assertEquals(0, dto().attachments.length);
    }

    @Test
    void pinAndUnpinOfDynamicAttachmentReachTheExporter() {
        TestExporter ops = new TestExporter.Dynamic(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.dynamicAttach(buf, Device.of("d"), noopImporter());

        f.imp.pin(a);
        assertEquals(1, ops.count("pin"));
        assertEquals(1, onlyAttachment().pins);
        f.imp.unpin(a);
        assertEquals(1, ops.count("unpin"));
        assertEquals(0, onlyAttachment().pins);

        f.imp.detach(a);
        assertEquals(1, ops.count("pin"));
        assertEquals(1, ops.count("unpin"), "nothing left to unpin at detach");
    }

    @Test
    void pinsStillHeldAtDetachAreUndone() {
        TestExporter ops = new TestExporter.Dynamic(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.dynamicAttach(buf, Device.of("d"), noopImporter());
        f.imp.pin(a);
        f.imp.pin(a);

        f.imp.detach(a);

        assertEquals(2, ops.count("pin"));
        assertEquals(2, ops.count("unpin"));
    }

    @Test
    void pinOfStaticAttachmentIsEinval() {
        TestExporter ops = new TestExporter.Dynamic(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.attach(buf, Device.of("d"));

        assertErrno(Errno.EINVAL, () -> f.imp.pin(a));
        assertErrno(Errno.EINVAL, () -> f.imp.unpin(a));

        assertEquals(1, ops.count("pin"), "only the core's own pin at attach");
        assertEquals(0, ops.count("unpin"));
    }

    @Test
    void pinWithNonDynamicExporterIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.dynamicAttach(buf, Device.of("d"), noopImporter());

        assertErrno(Errno.EINVAL, () -> f.imp.pin(a));
        assertErrno(Errno.EINVAL, () -> f.imp.unpin(a));

        assertEquals(0, ops.count("pin"));
        assertEquals(0, ops.count("unpin"));
    }

    @Test
    void unpinWithoutPinIsEinval() {
        TestExporter ops = new TestExporter.Dynamic(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufAttachment a = f.imp.dynamicAttach(buf, Device.of("d"), noopImporter());

        assertErrno(Errno.EINVAL, () -> f.imp.unpin(a));
        f.imp.pin(a);
        f.imp.unpin(a);
        assertErrno(Errno.EINVAL, () -> f.imp.unpin(a));

        assertEquals(1, ops.count("pin"));
        assertEquals(1, ops.count("unpin"));
    }

    // ---- runtime view ---------------------------------------------------------------------------------------------

    @Test
    void runtimeDtoListsAttachments() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufRegistry third = f.bundle(30, "third.bundle");
        third.get(buf);
        DmaBufAttachment s = f.imp.attach(buf, Device.of("static-dev"));
        f.imp.mapAttachment(s, DmaDataDirection.TO_DEVICE);
        f.imp.mapAttachment(s, DmaDataDirection.FROM_DEVICE);
        third.dynamicAttach(buf, Device.of("dynamic-dev"), noopImporter());

        RuntimeDTO dto = dto();
        assertEquals(2, dto.attachments.length);
        AttachmentDTO st = Arrays.stream(dto.attachments).filter(x -> x.device.equals("static-dev")).findFirst()
                .orElseThrow();
        AttachmentDTO dy = Arrays.stream(dto.attachments).filter(x -> x.device.equals("dynamic-dev")).findFirst()
                .orElseThrow();
        assertEquals(buf.id(), st.bufferId);
        assertEquals(20, st.bundleId);
        assertFalse(st.dynamic);
        assertEquals(2, st.mappedTables);
        assertEquals(buf.id(), dy.bufferId);
        assertEquals(30, dy.bundleId);
        assertTrue(dy.dynamic);
        assertEquals(0, dy.mappedTables);
        assertEquals(List.of("static-dev", "dynamic-dev"), List.of(dto.buffers[0].attachedDevices));
        String info = f.imp.bufinfo();
        assertTrue(info.contains("\tstatic-dev\n") && info.contains("\tdynamic-dev\n"), info);
        assertTrue(info.contains("Total 2 devices attached"), info);

        f.imp.detach(s);
        RuntimeDTO after = dto();
        assertEquals(1, after.attachments.length);
        assertEquals("dynamic-dev", after.attachments[0].device);
    }

    // ---- invalidateMappings ---------------------------------------------------------------------------------------

    @Test
    void invalidateMappingsByOwnerCallsEachDynamicImporterOnce() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        DmaBufRegistry third = f.bundle(30, "third.bundle");
        third.get(buf);
        List<DmaBufAttachment> told = new CopyOnWriteArrayList<>();
        DmaBufImporterOps recorder = told::add;
        DmaBufAttachment d1 = f.imp.dynamicAttach(buf, Device.of("dyn-1"), recorder);
        DmaBufAttachment d2 = third.dynamicAttach(buf, Device.of("dyn-2"), recorder);
        DmaBufAttachment st = f.imp.attach(buf, Device.of("static"));
        f.imp.mapAttachment(st, DmaDataDirection.TO_DEVICE);

        f.exp.invalidateMappings(buf);

        assertEquals(2, told.size(), () -> "told: " + told);
        assertTrue(told.contains(d1) && told.contains(d2), () -> "told: " + told);
        assertFalse(told.contains(st));
        // invalidating does not unmap or detach by itself
        assertEquals(0, ops.count("unmap"));
        assertEquals(0, ops.count("detach"));
        assertTrue(d1.isAttached() && d2.isAttached() && st.isAttached());
    }

    @Test
    void invalidateMappingsByNonOwnerIsEperm() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE);
        List<DmaBufAttachment> told = new CopyOnWriteArrayList<>();
        f.imp.dynamicAttach(buf, Device.of("dyn"), told::add);

        assertErrno(Errno.EPERM, () -> f.imp.invalidateMappings(buf));
        assertErrno(Errno.EPERM, () -> f.bundle(30, "third.bundle").invalidateMappings(buf));

        assertTrue(told.isEmpty(), () -> "told: " + told);
    }
}
