package dmabuf.importer.display;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;
import dmabuf.importer.common.MemoryExporter;
import dmabuf.importer.display.api.Framebuffer;
import dmabuf.importer.display.api.ScanoutResult;

/** The display against a real core: pipe CRCs, refusal with the exporter's errno, kmap fallback, what it holds. */
class CrtcDisplayTest {
    private static final long DISPLAY_BUNDLE = 30;
    private static final long LOW = 0x1000_0000L;
    private static final long HIGH = 0x1_2000_0000L;
    private static final Framebuffer LAYOUT = new Framebuffer(50, 20, 4 * 50 + 32);

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
    private final DmaBufRegistry registry = core.registryFor(core.openClient(DISPLAY_BUNDLE, "display"));
    private final CrtcDisplay display = new CrtcDisplay(registry,
            Device.of("crtc0").withDmaMask(CrtcDisplay.mask(32)).withContiguous(true), 500);

    @AfterEach
    void shutdown() {
        core.shutdown();
    }

    /** A framebuffer of random bytes (padding included) at {@code address}. */
    private DmaBuf framebuffer(long address, boolean vmap, long seed) {
        MemoryExporter ops = new MemoryExporter(LAYOUT.bytes(), address, vmap);
        byte[] bytes = new byte[(int) ops.memory.byteSize()];
        new Random(seed).nextBytes(bytes);
        MemorySegment.copy(bytes, 0, ops.memory, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return exp.export(ExportInfo.builder(ops, ops.memory.byteSize()).name("fb" + seed).build());
    }

    /** The CRC of the visible rows, computed from a copy: what the display must report. */
    private static long expectedCrc(long seed) {
        byte[] bytes = new byte[(int) ((LAYOUT.bytes() + 4095) / 4096 * 4096)];
        new Random(seed).nextBytes(bytes);
        CRC32 crc = new CRC32();
        for (int y = 0; y < LAYOUT.height(); y++) {
            crc.update(bytes, y * LAYOUT.pitch(), 4 * LAYOUT.width());
        }
        return crc.getValue();
    }

    private ClientDTO held() {
        for (ClientDTO c : core.snapshots().runtimeDTO().clients) {
            if (c.bundleId == DISPLAY_BUNDLE) {
                return c;
            }
        }
        throw new AssertionError("no display client");
    }

    @Test
    void aFlipReportsThePipeCrcOfTheVisibleFrame() {
        ScanoutResult r = display.pageFlip(framebuffer(LOW, true, 1), LAYOUT);
        assertEquals(expectedCrc(1), r.crc());
        assertEquals(1, r.flip());
        assertEquals("vmap", r.access());
    }

    @Test
    void withoutVmapTheFrameIsReadThroughKmapWithTheSameCrc() {
        ScanoutResult r = display.pageFlip(framebuffer(LOW, false, 2), LAYOUT);
        assertEquals(expectedCrc(2), r.crc());
        assertEquals("kmap", r.access());
    }

    @Test
    void aBufferOutsideTheDmaMaskIsRefusedWithTheExportersErrnoAndTheOldFrameStays() {
        display.pageFlip(framebuffer(LOW, true, 3), LAYOUT);
        DmaBuf high = framebuffer(HIGH, true, 4);

        DmaBufException e = assertThrows(DmaBufException.class, () -> display.pageFlip(high, LAYOUT));

        assertEquals(Errno.EBUSY, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("crtc0") && e.getMessage().contains("cannot import"), e.getMessage());
        assertThrows(DmaBufException.class, () -> display.check(high, LAYOUT));
        assertEquals(1, display.flips());
        ClientDTO c = held();
        assertEquals(1, c.attachments, "only the frame on screen stays attached");
        assertEquals(1, c.references, "only the frame on screen stays referenced");
    }

    @Test
    void aBufferSmallerThanTheLayoutIsEinval() {
        DmaBuf fb = framebuffer(LOW, true, 5);
        Framebuffer tooBig = new Framebuffer(4000, 4000, 16000);
        assertEquals(Errno.EINVAL, assertThrows(DmaBufException.class, () -> display.pageFlip(fb, tooBig)).errno());
        assertEquals(0, held().attachments);
    }

    @Test
    void theDisplayHoldsOnlyWhatIsOnScreenAndGivesItBackOnDeactivate() {
        DmaBuf first = framebuffer(LOW, true, 6);
        DmaBuf second = framebuffer(LOW + (1 << 20), true, 7);
        display.pageFlip(first, LAYOUT);
        display.pageFlip(second, LAYOUT);
        assertEquals(1, held().attachments);
        assertEquals(1, held().references);

        display.deactivate();

        ClientDTO c = held();
        assertEquals(0, c.attachments);
        assertEquals(0, c.references);
        assertEquals(0, c.vmaps);
        assertEquals(0, c.cpuAccessBrackets);
        assertEquals(Errno.ENODEV,
                assertThrows(DmaBufException.class, () -> display.pageFlip(first, LAYOUT)).errno());
    }

    @Test
    void aSnapshotIsThePngOfTheFrameOnScreen(@TempDir Path dir) throws Exception {
        assertEquals(Errno.EINVAL,
                assertThrows(DmaBufException.class, () -> display.writeSnapshot(dir.resolve("x.png"))).errno());
        display.pageFlip(framebuffer(LOW, false, 8), LAYOUT);
        Path png = dir.resolve("frame.png");

        display.writeSnapshot(png);

        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(LAYOUT.width(), image.getWidth());
        assertEquals(LAYOUT.height(), image.getHeight());
        byte[] bytes = new byte[(int) ((LAYOUT.bytes() + 4095) / 4096 * 4096)];
        new Random(8).nextBytes(bytes);
        for (int y = 0; y < LAYOUT.height(); y += 7) {
            for (int x = 0; x < LAYOUT.width(); x += 5) {
                int o = y * LAYOUT.pitch() + 4 * x;
                int rgb = (bytes[o + 2] & 0xFF) << 16 | (bytes[o + 1] & 0xFF) << 8 | bytes[o] & 0xFF;
                assertEquals(rgb, image.getRGB(x, y) & 0xFFFFFF, "pixel " + x + "," + y);
            }
        }
    }
}
