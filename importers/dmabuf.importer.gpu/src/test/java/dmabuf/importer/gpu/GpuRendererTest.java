package dmabuf.importer.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;
import dmabuf.importer.common.MemoryExporter;
import dmabuf.importer.gpu.api.ColourMatrix;
import dmabuf.importer.gpu.api.ReferenceTransform;
import dmabuf.importer.gpu.api.RenderResult;
import dmabuf.importer.gpu.api.RenderTarget;
import dmabuf.importer.gpu.api.SourceFormat;
import dmabuf.importer.gpu.api.Texture;

/** The GPU importer against a real core: the kernel's output, the kmap fallback, refusals and release. */
class GpuRendererTest {
    private static final long GPU_BUNDLE = 20;
    private static final long LOW = 0x1000_0000L;
    private static final long HIGH = 0x1_2000_0000L;

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
    private final DmaBufRegistry gpuRegistry = core.registryFor(core.openClient(GPU_BUNDLE, "dmabuf.importer.gpu"));

    @AfterEach
    void shutdown() {
        core.shutdown();
    }

    private DmaBuf export(MemoryExporter ops) {
        return exp.export(ExportInfo.builder(ops, ops.memory.byteSize()).name("test").build());
    }

    private static byte[] randomBytes(long size, long seed) {
        byte[] b = new byte[(int) size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** What the GPU's bundle holds right now, per the runtime. */
    private ClientDTO gpuClient() {
        RuntimeDTO dto = core.snapshots().runtimeDTO();
        for (ClientDTO c : dto.clients) {
            if (c.bundleId == GPU_BUNDLE) {
                return c;
            }
        }
        throw new AssertionError("no client for the GPU bundle");
    }

    private void assertHoldsNothing() {
        ClientDTO c = gpuClient();
        assertEquals(0, c.attachments, "attachments");
        assertEquals(0, c.vmaps, "vmaps");
        assertEquals(0, c.cpuAccessBrackets, "brackets");
        assertEquals(0, c.references, "references");
    }

    /** Renders a random source with a padded target pitch and compares the visible pixels with the reference. */
    private RenderResult renderAndCheck(SourceFormat format, boolean sourceVmap, boolean targetVmap,
            ColourMatrix matrix) {
        int w = 70;
        int h = 38;
        Texture texture = new Texture(format, w, h, format == SourceFormat.NV12 ? 80 : 4 * w + 16);
        RenderTarget target = new RenderTarget(w, h, 4 * w + 24);
        MemoryExporter srcOps = new MemoryExporter(texture.bytes(), LOW, sourceVmap);
        MemoryExporter dstOps = new MemoryExporter(target.bytes(), LOW + (64 << 20), targetVmap);
        byte[] source = randomBytes(texture.bytes(), 42);
        MemorySegment.copy(source, 0, srcOps.memory, ValueLayout.JAVA_BYTE, 0, source.length);
        dstOps.memory.fill((byte) 0x5A);
        DmaBuf src = export(srcOps);
        DmaBuf dst = export(dstOps);

        RenderResult result = new GpuRenderer(gpuRegistry, Device.of("render0"))
                .render(src, texture, dst, target, matrix);

        byte[] expected = ReferenceTransform.render(source, texture, matrix);
        for (int y = 0; y < h; y++) {
            byte[] row = new byte[4 * w];
            MemorySegment.copy(dstOps.memory, ValueLayout.JAVA_BYTE, (long) y * target.pitch(), row, 0, row.length);
            byte[] want = java.util.Arrays.copyOfRange(expected, 4 * w * y, 4 * w * (y + 1));
            assertArrayEquals(want, row, "row " + y);
            for (int pad = 4 * w; pad < target.pitch(); pad++) {
                assertEquals(0x5A, dstOps.memory.get(ValueLayout.JAVA_BYTE, (long) y * target.pitch() + pad) & 0xFF,
                        "padding of row " + y + " untouched");
            }
        }
        assertEquals(0, result.bytesCopied());
        assertHoldsNothing();
        exp.put(src);
        exp.put(dst);
        return result;
    }

    @Test
    void nv12IsRenderedAsTheReferenceThroughVmap() {
        RenderResult r = renderAndCheck(SourceFormat.NV12, true, true, ColourMatrix.SEPIA);
        assertEquals("vmap", r.sourceAccess());
        assertEquals("vmap", r.targetAccess());
    }

    @Test
    void rgbaIsRenderedAsTheReference() {
        renderAndCheck(SourceFormat.RGBA, true, true, ColourMatrix.GREY);
    }

    @Test
    void exportersWithoutVmapAreReadAndWrittenThroughKmap() {
        RenderResult r = renderAndCheck(SourceFormat.NV12, false, false, ColourMatrix.IDENTITY);
        assertEquals("kmap", r.sourceAccess());
        assertEquals("kmap", r.targetAccess());
    }

    @Test
    void bt601OfKnownColours() {
        ColourMatrix m = ColourMatrix.IDENTITY;
        assertEquals(0xFF000000, m.xrgbOfYCbCr(16, 128, 128), "limited-range black");
        assertEquals(0xFFFFFFFF, m.xrgbOfYCbCr(235, 128, 128), "limited-range white");
        int red = m.xrgbOfYCbCr(81, 90, 240);
        assertTrue((red >>> 16 & 0xFF) > 250 && (red >>> 8 & 0xFF) < 5 && (red & 0xFF) < 5, Integer.toHexString(red));
    }

    @Test
    void aDeviceTheExporterRefusesFailsWithItsErrnoAndLeavesNothing() {
        Texture texture = new Texture(SourceFormat.RGBA, 16, 16, 64);
        RenderTarget target = new RenderTarget(16, 16, 64);
        DmaBuf src = export(new MemoryExporter(texture.bytes(), HIGH, true));
        DmaBuf dst = export(new MemoryExporter(target.bytes(), LOW, true));
        GpuRenderer gpu32 = new GpuRenderer(gpuRegistry, Device.of("render0").withDmaMask(GpuRenderer.mask(32)));

        DmaBufException e = assertThrows(DmaBufException.class,
                () -> gpu32.render(src, texture, dst, target, ColourMatrix.IDENTITY));

        assertEquals(Errno.EBUSY, e.errno());
        assertTrue(e.getMessage().contains("render0") && e.getMessage().contains("refused"), e.getMessage());
        assertHoldsNothing();
    }

    @Test
    void aBufferSmallerThanItsLayoutIsEinval() {
        Texture texture = new Texture(SourceFormat.NV12, 64, 64, 64);
        RenderTarget target = new RenderTarget(64, 64, 256);
        DmaBuf src = export(new MemoryExporter(4096, LOW, true));
        DmaBuf dst = export(new MemoryExporter(target.bytes(), LOW + (1 << 20), true));
        DmaBufException e = assertThrows(DmaBufException.class, () -> new GpuRenderer(gpuRegistry,
                Device.of("render0")).render(src, texture, dst, target, ColourMatrix.IDENTITY));
        assertEquals(Errno.EINVAL, e.errno());
        assertHoldsNothing();
    }

    @Test
    void afterDeactivationRendersAreEnodevAndNothingIsHeld() throws InterruptedException {
        Texture texture = new Texture(SourceFormat.RGBA, 16, 16, 64);
        RenderTarget target = new RenderTarget(16, 16, 64);
        DmaBuf src = export(new MemoryExporter(texture.bytes(), LOW, true));
        DmaBuf dst = export(new MemoryExporter(target.bytes(), LOW + (1 << 20), true));
        GpuRenderer gpu = new GpuRenderer(gpuRegistry, Device.of("render0"));
        gpu.render(src, texture, dst, target, ColourMatrix.IDENTITY);

        gpu.deactivate();

        DmaBufException e = assertThrows(DmaBufException.class,
                () -> gpu.render(src, texture, dst, target, ColourMatrix.IDENTITY));
        assertEquals(Errno.ENODEV, e.errno());
        assertHoldsNothing();
    }
}
