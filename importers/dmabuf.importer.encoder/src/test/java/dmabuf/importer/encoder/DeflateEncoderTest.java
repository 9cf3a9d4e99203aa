package dmabuf.importer.encoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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
import dmabuf.importer.encoder.api.EncodedFrame;
import dmabuf.importer.encoder.api.RawFrame;

/** The encoder against a real core: its stream inflates to the visible rows, via vmap and kmap; it holds nothing. */
class DeflateEncoderTest {
    private static final long ENCODER_BUNDLE = 40;
    private static final RawFrame LAYOUT = new RawFrame(100, 30, 4 * 100 + 48, 4);

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
    private final DmaBufRegistry registry = core.registryFor(core.openClient(ENCODER_BUNDLE, "encoder"));
    private final DeflateEncoder encoder = new DeflateEncoder(registry, Device.of("enc0"), 6);

    @AfterEach
    void shutdown() {
        core.shutdown();
    }

    /** A frame with a gradient in its visible bytes and 0xEE padding, and the visible bytes it holds. */
    private DmaBuf frame(boolean vmap, byte[] visible) {
        MemoryExporter ops = new MemoryExporter((long) LAYOUT.pitch() * LAYOUT.height(), 0x100000, vmap);
        ops.memory.fill((byte) 0xEE);
        int row = LAYOUT.width() * 4;
        for (int y = 0; y < LAYOUT.height(); y++) {
            for (int i = 0; i < row; i++) {
                visible[y * row + i] = (byte) (i / 4 + y * 3 + (i & 3) * 50);
            }
            MemorySegment.copy(visible, y * row, ops.memory, ValueLayout.JAVA_BYTE, (long) y * LAYOUT.pitch(), row);
        }
        return exp.export(ExportInfo.builder(ops, ops.memory.byteSize()).name("raw").build());
    }

    private static byte[] inflate(byte[] data) throws DataFormatException {
        Inflater inflater = new Inflater();
        inflater.setInput(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        while (!inflater.finished()) {
            int n = inflater.inflate(buf);
            if (n == 0 && inflater.needsInput()) {
                throw new DataFormatException("truncated stream");
            }
            out.write(buf, 0, n);
        }
        inflater.end();
        return out.toByteArray();
    }

    private ClientDTO held() {
        for (ClientDTO c : core.snapshots().runtimeDTO().clients) {
            if (c.bundleId == ENCODER_BUNDLE) {
                return c;
            }
        }
        throw new AssertionError("no encoder client");
    }

    @Test
    void theStreamInflatesToTheVisibleRows() throws Exception {
        byte[] visible = new byte[(int) LAYOUT.visibleBytes()];
        EncodedFrame f = encoder.encode(frame(true, visible), LAYOUT, 7);
        assertArrayEquals(visible, inflate(f.data()));
        assertEquals(7, f.sequence());
        assertEquals("vmap", f.access());
        assertTrue(f.ratio() < 0.5, "a gradient compresses: " + f.ratio());
        assertEquals(0, held().attachments);
        assertEquals(0, held().cpuAccessBrackets);
    }

    @Test
    void withoutVmapTheFrameIsReadThroughKmap() throws Exception {
        byte[] visible = new byte[(int) LAYOUT.visibleBytes()];
        EncodedFrame f = encoder.encode(frame(false, visible), LAYOUT, 8);
        assertArrayEquals(visible, inflate(f.data()));
        assertEquals("kmap", f.access());
    }

    @Test
    void aFrameSmallerThanItsLayoutIsEinvalAndAfterDeactivateEnodev() throws Exception {
        byte[] visible = new byte[(int) LAYOUT.visibleBytes()];
        DmaBuf buf = frame(true, visible);
        RawFrame tooBig = new RawFrame(1000, 1000, 4000, 4);
        assertEquals(Errno.EINVAL, assertThrows(DmaBufException.class, () -> encoder.encode(buf, tooBig, 1)).errno());

        encoder.deactivate();

        assertEquals(Errno.ENODEV, assertThrows(DmaBufException.class, () -> encoder.encode(buf, LAYOUT, 1)).errno());
        assertEquals(0, held().attachments);
        assertEquals(0, held().vmaps);
    }
}
