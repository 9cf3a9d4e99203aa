package dmabuf.exporter.v4l2;

import static dmabuf.exporter.v4l2.Rig.MIB;
import static dmabuf.exporter.v4l2.Rig.assertErrno;
import static dmabuf.exporter.v4l2.Rig.nv12;
import static dmabuf.exporter.v4l2.Rig.rgba;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.exporter.v4l2.api.Frame;
import dmabuf.exporter.v4l2.api.PixelFormat;

/** The configuration: validation, the service properties, and changes applied without revoking anything. */
class ConfigurationTest {

    @Test
    void configurationValuesAreValidatedNamingTheKey() {
        DeviceSettings s = DeviceSettings.of(" video2 ", 16, "nv12", 640, 480, 0);
        assertEquals("video2", s.name());
        assertEquals(16 * MIB, s.memoryBytes());
        assertEquals(nv12(640, 480), s.defaultFormat());
        assertEquals("v4l2-video2", s.poolName());
        assertMessage("memory.mb", () -> DeviceSettings.of("v", 0, "RGBA", 8, 8, 30));
        assertMessage("memory.mb", () -> DeviceSettings.of("v", 4097, "RGBA", 8, 8, 30));
        assertMessage("format", () -> DeviceSettings.of("v", 1, "YUYV", 8, 8, 30));
        assertMessage("width/height", () -> DeviceSettings.of("v", 1, "NV12", 7, 8, 30));
        assertMessage("width/height", () -> DeviceSettings.of("v", 1, "RGBA", 0, 8, 30));
        assertMessage("fps", () -> DeviceSettings.of("v", 1, "RGBA", 8, 8, -1));
        assertMessage("name", () -> DeviceSettings.of(" ", 1, "RGBA", 8, 8, 30));
    }

    private static void assertMessage(String key, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }

    @Test
    void theServicePropertiesNameTheDeviceForTheCoreAndForConsumers() {
        Dictionary<String, Object> p = V4l2CaptureComponent.properties(DeviceSettings.of("cam1", 1, "RGBA", 8, 8, 0));
        assertEquals("cam1", p.get(DmaBufExporter.NAME));
        assertEquals("cam1", p.get(DmaBufExporter.DEVICE));
        assertEquals("cam1", p.get(CaptureDevice.DEVICE_NAME));
        assertArrayEquals(new String[] {"vmap", "kmap", "mmap", "contiguous"},
                (String[]) p.get(DmaBufExporter.CAPABILITIES));
        assertArrayEquals(new String[] {"AB24", "NV12"}, (String[]) p.get(CaptureDevice.PIXEL_FORMATS));
    }

    @Test
    void aSecondDeviceOfTheSameNameCannotStart() {
        try (Rig rig = new Rig()) {
            assertErrno(Errno.EINVAL, () -> new VideoDevice(rig.device.settings(), rig.exp, rig.expMemory, rig.log));
        }
    }

    @Test
    void theFrameRateChangesAtOnceEvenWhileStreaming() {
        try (Rig rig = new Rig(rgba(64, 32), MIB, 0)) {
            VideoDevice dev = rig.device;
            List<DeviceSettings> published = new ArrayList<>();
            dev.requestBuffers(2);
            dev.queue(0);
            dev.queue(1);
            dev.streamOn();
            dev.dequeue(10, TimeUnit.SECONDS);
            dev.dequeue(10, TimeUnit.SECONDS);
            DeviceSettings applied = dev.apply(dev.settings().withFps(50), published::add);
            assertEquals(50, applied.fps());
            assertEquals(50, dev.fps());
            assertEquals(List.of(applied), published);
            // Now paced: a tick fills buffer 0 as soon as it is queued; frames between were dropped.
            dev.queue(0);
            Frame f = dev.dequeue(10, TimeUnit.SECONDS);
            assertTrue(f.sequence() >= 2);
            dev.apply(dev.settings().withFps(0), published::add);
            dev.queue(1);
            assertEquals(1, dev.dequeue(10, TimeUnit.SECONDS).index(), "back to filling on queue");
            dev.streamOff();
        }
    }

    @Test
    void formatNameAndMemoryChangesWaitUntilNoBufferIsAlive() {
        try (Rig rig = new Rig(rgba(64, 32), MIB, 0)) {
            VideoDevice dev = rig.device;
            List<DeviceSettings> published = new ArrayList<>();
            dev.requestBuffers(1);
            DmaBuf held = dev.exportBuffer(0, DmaBufUapi.O_RDWR);
            rig.imp.get(held);
            DeviceSettings wanted = new DeviceSettings("video1", 2 * MIB, nv12(32, 32), 0);

            DeviceSettings applied = dev.apply(wanted, published::add);
            assertEquals("video0", applied.name(), "buffers are allocated: the name stays");
            assertEquals(MIB, applied.memoryBytes());
            assertEquals(rgba(64, 32), dev.format(), "and the format");
            assertEquals(MIB, rig.poolCapacity());
            assertEquals(List.of(applied), published, "the service properties are republished as they are");
            assertFalse(rig.log.warningsContaining("not applied").isEmpty());

            dev.requestBuffers(0); // the importer still holds buffer 0: an orphan of the old pool
            applied = dev.apply(wanted, published::add);
            assertEquals(nv12(32, 32), dev.format(), "no buffers: the format changes");
            assertEquals("video0", applied.name(), "an orphan lives in the pool: name and size stay");
            assertEquals(MIB, rig.poolCapacity());
            assertEquals(8192, held.size(), "the orphan is untouched");

            rig.imp.put(held);
            // What SCR's setProperties does for the core: the service now carries the new name.
            rig.core.drivers().modified(dmabuf.core.drivers.DriverTracker.Kind.EXPORTER, 1L, Rig.DEVICE_BUNDLE,
                    java.util.Map.of(DmaBufExporter.NAME, "video1"));
            applied = dev.apply(wanted, published::add);
            assertEquals(wanted, applied, "idle: everything applies");
            assertEquals("video1", dev.name());
            assertEquals(2 * MIB, rig.poolCapacity());
            assertEquals("v4l2-video1", dev.pool().name());
            assertEquals(wanted, published.getLast());
            assertEquals(1, dev.requestBuffers(1));
            assertEquals("video1", dev.exportBuffer(0, DmaBufUapi.O_RDWR).exporterName());
        }
    }

    @Test
    void aPoolTheMemoryServiceCannotGiveKeepsTheOldOne() {
        try (Rig rig = new Rig()) {
            VideoDevice dev = rig.device;
            DeviceSettings huge = dev.settings().withPool("video0", 2048 * MIB); // over the engine's 1 GiB limit
            DeviceSettings applied = dev.apply(huge, s -> { });
            assertEquals(MIB, applied.memoryBytes());
            assertEquals(MIB, rig.poolCapacity(), "the old pool was restored");
            assertFalse(rig.log.errors.isEmpty(), "and the failure was logged");
            assertEquals(2, dev.requestBuffers(2));
        }
    }
}
