package dmabuf.importer.common;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;

/** The shared CPU view and device import against a real core: kmap page seams, chunking, and undoing everything. */
class CpuViewTest {
    private static final long IMPORTER = 20;
    private final DmaBufCore core = new DmaBufCore(CoreConfig.DEFAULTS, new CoreLog() {
        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
        }

        @Override
        public void error(String message, Throwable cause) {
        }

        @Override
        public void debug(String message) {
        }
    }, () -> {
    });
    private final DmaBufRegistry exp = core.registryFor(core.openClient(10, "exporter"));
    private final DmaBufRegistry imp = core.registryFor(core.openClient(IMPORTER, "importer"));

    @AfterEach
    void shutdown() {
        core.shutdown();
    }

    private DmaBuf export(MemoryExporter ops) {
        return exp.export(ExportInfo.builder(ops, ops.memory.byteSize()).build());
    }

    private ClientDTO importer() {
        for (ClientDTO c : core.snapshots().runtimeDTO().clients) {
            if (c.bundleId == IMPORTER) {
                return c;
            }
        }
        throw new AssertionError("no importer client");
    }

    @Test
    void kmapViewsWriteAcrossPageSeamsAndChunkByPage() {
        MemoryExporter ops = new MemoryExporter(3 * 4096, 0x100000, false);
        DmaBuf buf = export(ops);
        try (CpuView view = CpuView.open(imp, buf, DmaDataDirection.TO_DEVICE)) {
            assertEquals("kmap", view.access());
            view.setIntLE(4094, 0x44332211);
            assertEquals(0x11, view.get(4094));
            assertEquals(0x44, view.get(4097));
            List<Integer> chunks = new ArrayList<>();
            view.forEachChunk(4000, 5000, b -> chunks.add(b.remaining()));
            assertEquals(List.of(96, 4096, 808), chunks);
            byte[] out = new byte[4];
            view.copyTo(4094, out, 0, 4);
            assertArrayEquals(new byte[] {0x11, 0x22, 0x33, 0x44}, out);
            assertEquals(4, view.bytesCopied());
            assertEquals(Errno.EINVAL, assertThrows(DmaBufException.class,
                    () -> view.forEachChunk(3 * 4096 - 2, 4, b -> { })).errno());
        }
        assertEquals(0x44332211, ops.memory.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                4094));
        assertEquals(0, importer().cpuAccessBrackets);
    }

    @Test
    void vmapViewsAreOneChunkAndGiveTheVmapBack() {
        DmaBuf buf = export(new MemoryExporter(2 * 4096, 0x100000, true));
        try (CpuView view = CpuView.open(imp, buf, DmaDataDirection.FROM_DEVICE)) {
            assertEquals("vmap", view.access());
            List<Integer> chunks = new ArrayList<>();
            view.forEachChunk(10, 8000, b -> chunks.add(b.remaining()));
            assertEquals(List.of(8000), chunks);
            assertEquals(1, importer().vmaps);
        }
        assertEquals(0, importer().vmaps);
        assertEquals(0, importer().cpuAccessBrackets);
    }

    @Test
    void aRefusedImportLeavesNothingAttached() {
        DmaBuf buf = export(new MemoryExporter(4096, 0x1_0000_0000L, true));
        DmaBufException e = assertThrows(DmaBufException.class, () -> DeviceImport.open(imp, buf,
                Device.of("dev32").withDmaMask(Device.DMA_MASK_32), DmaDataDirection.TO_DEVICE, 4096));
        assertEquals(Errno.EBUSY, e.errno());
        assertEquals(0, importer().attachments);
        try (DeviceImport ok = DeviceImport.open(imp, buf, Device.of("dev64"), DmaDataDirection.TO_DEVICE, 4096)) {
            assertEquals(4096, ok.table().totalLength());
            assertEquals(1, importer().attachments);
        }
        assertEquals(0, importer().attachments);
    }
}
