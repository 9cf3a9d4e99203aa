package dmabuf.exporter.v4l2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.function.Executable;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;
import dmabuf.core.drivers.DriverTracker;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.PixelFormat;
import dmabuf.memory.MemoryConfig;
import dmabuf.memory.MemoryEngine;
import dmabuf.memory.MemoryLog;

/**
 * A real dma-buf core and memory engine without a framework, the device's bundle (id 10, {@link #exp},
 * {@link #expMemory}) with its exporter service registered, an importing bundle (id 20, {@link #imp},
 * {@link #impMemory}), and the device. Each test makes its own and closes it.
 */
final class Rig implements AutoCloseable {
    static final long DEVICE_BUNDLE = 10;
    static final long IMPORTER_BUNDLE = 20;
    static final String BSN = "dmabuf.exporter.v4l2";
    static final long KIB = 1024;
    static final long MIB = 1024 * KIB;

    /** Every message of the core, the memory engine and the device, by level. */
    final Recorder log = new Recorder();
    final MemoryEngine engine;
    final DmaBufCore core;
    final DmaBufRegistry exp;
    final DmaBufRegistry imp;
    final PhysicalMemory expMemory;
    final PhysicalMemory impMemory;
    final VideoDevice device;

    /** A device with these settings. */
    Rig(DeviceSettings settings) {
        engine = new MemoryEngine(MemoryConfig.DEFAULTS, log,
                id -> Map.of(DEVICE_BUNDLE, BSN, IMPORTER_BUNDLE, "importer").get(id));
        expMemory = engine.openBundle(DEVICE_BUNDLE, BSN);
        impMemory = engine.openBundle(IMPORTER_BUNDLE, "importer");
        core = new DmaBufCore(CoreConfig.DEFAULTS, log, () -> {
        });
        exp = core.registryFor(core.openClient(DEVICE_BUNDLE, BSN));
        imp = core.registryFor(core.openClient(IMPORTER_BUNDLE, "importer"));
        // What SCR's registration of the component's service does for the core's whiteboard.
        core.drivers().add(DriverTracker.Kind.EXPORTER, 1L, DEVICE_BUNDLE,
                Map.of(DmaBufExporter.NAME, settings.name(), DmaBufExporter.DEVICE, settings.name()));
        device = new VideoDevice(settings, exp, expMemory, log);
    }

    /** A device "video0" with a pool of {@code memoryBytes}, the default format and frame rate. */
    Rig(Format format, long memoryBytes, int fps) {
        this(new DeviceSettings("video0", memoryBytes, format, fps));
    }

    /** RGBA 64x32 (8 KiB, two pages a frame), 1 MiB, frame rate 0. */
    Rig() {
        this(rgba(64, 32), MIB, 0);
    }

    static Format rgba(int w, int h) {
        return Format.of(PixelFormat.RGBA, w, h);
    }

    static Format nv12(int w, int h) {
        return Format.of(PixelFormat.NV12, w, h);
    }

    /** Bytes free in the device's pool. */
    long poolFree() {
        return device.pool().available();
    }

    /** The capacity of the device's pool. */
    long poolCapacity() {
        return device.pool().capacity();
    }

    @Override
    public void close() {
        device.close();
        core.shutdown();
        engine.shutdown();
    }

    /** Asserts that the call fails with the errno, and returns the exception for more checks. */
    static DmaBufException assertErrno(Errno errno, Executable call) {
        DmaBufException e = assertThrows(DmaBufException.class, call);
        assertEquals(errno, e.errno(), () -> "wrong errno; message was: " + e.getMessage());
        return e;
    }

    /** A log for the core, the engine and the device that keeps every message. */
    static final class Recorder implements CoreLog, MemoryLog, DeviceLog {
        final List<String> infos = new CopyOnWriteArrayList<>();
        final List<String> warnings = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();

        @Override
        public void info(String message) {
            infos.add(message);
        }

        @Override
        public void warn(String message) {
            warnings.add(message);
        }

        @Override
        public void error(String message, Throwable cause) {
            errors.add(message);
        }

        @Override
        public void debug(String message) {
        }

        List<String> warningsContaining(String text) {
            return warnings.stream().filter(w -> w.contains(text)).toList();
        }
    }
}
