package dmabuf.exporter.v4l2;

import dmabuf.api.DmaBufRegistry;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.PixelFormat;

/** Test access to the camera device without a framework (same package: its constructor is package-private). */
public final class TestCameras {
    private TestCameras() {
    }

    /** A camera at frame rate 0 (a frame as soon as a buffer is queued) with a pool of {@code memoryBytes}. */
    public static CaptureDevice create(String name, DmaBufRegistry registry, PhysicalMemory memory,
            long memoryBytes) {
        return new VideoDevice(new DeviceSettings(name, memoryBytes, Format.of(PixelFormat.NV12, 640, 480), 0),
                registry, memory, new DeviceLog() {
                    @Override
                    public void info(String message) {
                    }

                    @Override
                    public void warn(String message) {
                    }

                    @Override
                    public void error(String message, Throwable cause) {
                    }
                });
    }

    /** What deactivation does: stops the device and frees its pool. */
    public static void close(CaptureDevice camera) {
        ((VideoDevice) camera).close();
    }
}
