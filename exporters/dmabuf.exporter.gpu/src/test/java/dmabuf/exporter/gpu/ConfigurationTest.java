package dmabuf.exporter.gpu;

import static dmabuf.exporter.gpu.GpuFixture.MIB;
import static dmabuf.exporter.gpu.GpuFixture.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.gpu.api.Residency;

/** The factory configuration: parsing, and changes applied without touching live buffers. */
class ConfigurationTest {

    /** A configuration as DS would pass it. */
    static GpuConfig config(String name, int vramMb, String mask, int sysmemMb) {
        return new GpuConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return GpuConfig.class;
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public int vram_mb() {
                return vramMb;
            }

            @Override
            public String dma_mask() {
                return mask;
            }

            @Override
            public int sysmem_mb() {
                return sysmemMb;
            }
        };
    }

    @Test
    void valuesAreTypedAndChecked() {
        GpuSettings s = GpuSettings.from(config(" gpu1 ", 16, "0xFFFF_FFFF", 8));
        assertEquals("gpu1", s.name());
        assertEquals(16 * MIB, s.vramBytes());
        assertEquals(0xFFFF_FFFFL, s.vramMask());
        assertEquals(8 * MIB, s.sysmemBytes());
        assertEquals(-1L, GpuSettings.from(config("g", 1, "-1", 1)).vramMask());
        assertEquals(0xFFFF_FFFFL, GpuSettings.from(config("g", 1, "4294967295", 1)).vramMask());
        assertEquals(-1L, GpuSettings.from(config("g", 1, "0xffffffffffffffff", 1)).vramMask());
        for (GpuConfig bad : new GpuConfig[] {config("", 1, "-1", 1), config("g", 0, "-1", 1),
            config("g", 1, "-1", 0), config("g", 1, "0", 1), config("g", 1, "mask", 1), config("g", 1, "-2", 1),
            config("g", 65537, "-1", 1), config("g", 1, "-1", 3841)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GpuSettings.from(bad));
            assertTrue(e.getMessage().contains(Gpu.PID), e.getMessage());
        }
        GpuSettings d = GpuSettings.from(config("gpu0", 64, "-1", 64));
        assertEquals(GpuSettings.defaults(), d, "the OCD's defaults are the settings' defaults");
    }

    @Test
    void theServiceCarriesTheExporterProperties() {
        try (GpuFixture f = new GpuFixture(new GpuSettings("gpu7", 2 * MIB, -1L, 2 * MIB))) {
            var props = f.gpu.serviceProperties();
            assertEquals("gpu7", props.get("dmabuf.exporter.name"));
            assertEquals("gpu7", props.get("dmabuf.exporter.device"));
            assertTrue(java.util.List.of((String[]) props.get("dmabuf.exporter.capabilities")).contains("pin"));
            assertTrue(f.core.drivers().failed().isEmpty());
            assertEquals("gpu7", f.gpu.primeExport(f.gpu.createObject(PAGE), 0).exporterName());
        }
    }

    @Test
    void aSecondDeviceWithTheSameNameCannotStart() {
        try (GpuFixture f = new GpuFixture()) {
            DmaBufException e = assertThrows(DmaBufException.class,
                    () -> new GpuDevice(GpuSettings.defaults(), f.gpuRegistry, f.gpuMemory, f.log.gpu()));
            assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
            assertEquals(2, f.engine.stats().pools.length, "the first device's two pools only");
        }
    }

    @Test
    void anEmptyPoolIsResizedAndAnOccupiedOneKeepsItsSize() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            f.gpu.gpuFill(h, 0, PAGE, (byte) 9); // VRAM is occupied, system memory is empty
            GpuSettings now = f.gpu.reconfigure(new GpuSettings("gpu0", 128 * MIB, -1L, 32 * MIB));

            assertEquals(64 * MIB, now.vramBytes(), "kept: an object lives in VRAM");
            assertEquals(32 * MIB, now.sysmemBytes());
            assertEquals(64 * MIB, f.gpu.memory().vramCapacity());
            assertEquals(32 * MIB, f.gpu.memory().systemCapacity());
            assertEquals(32 * MIB, f.pool("sysmem").capacity);
            assertEquals(1, f.log.warningsContaining("VRAM stays 64 MiB").size(), f.log.warnings.toString());
            assertEquals(Residency.VRAM, f.gpu.info(h).placement(), "the live object was not touched");

            f.gpu.closeHandle(h);
            now = f.gpu.reconfigure(new GpuSettings("gpu0", 128 * MIB, -1L, 32 * MIB));
            assertEquals(128 * MIB, now.vramBytes(), "applied once VRAM is empty");
            assertEquals(128 * MIB, f.pool("vram").capacity);
        }
    }

    @Test
    void aNameChangeIsIgnoredAndABufferExportedBeforeKeepsWorking() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            GpuSettings now = f.gpu.reconfigure(new GpuSettings("gpu9", 64 * MIB, -1L, 64 * MIB));
            assertEquals("gpu0", now.name());
            assertEquals("gpu0", f.gpu.name());
            assertFalse(f.log.warningsContaining("name 'gpu9' ignored").isEmpty());
            f.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            f.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        }
    }

    @Test
    void vramMovesBelowFourGigabytesWhenItsMaskChangesWhileEmpty() {
        try (GpuFixture f = new GpuFixture()) {
            assertTrue(f.pool("vram").physBase >= 1L << 32);
            f.gpu.reconfigure(new GpuSettings("gpu0", 64 * MIB, 0xFFFF_FFFFL, 64 * MIB));
            assertTrue(f.pool("vram").physBase + f.pool("vram").capacity <= 1L << 32);
        }
    }
}
