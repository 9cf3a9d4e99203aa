package dmabuf.exporter.scanout;

import dmabuf.api.DmaBufRegistry;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.exporter.scanout.api.DumbBufferDevice;

/** Test access to the scanout device without a framework (same package: its constructor is package-private). */
public final class TestScanouts {
    private TestScanouts() {
    }

    /** A scanout device with a pool of {@code memoryBytes} and buffers up to {@code max} pixels wide and tall. */
    public static DumbBufferDevice create(String name, DmaBufRegistry registry, PhysicalMemory memory,
            long memoryBytes, int max) {
        return new ScanoutDevice(new ScanoutSettings(name, memoryBytes, max, max), registry, memory, new DeviceLog() {
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
        });
    }

    /** What deactivation does: revokes what is exported and frees the pool. */
    public static void shutdown(DumbBufferDevice device) {
        ((ScanoutDevice) device).shutdown();
    }
}
