package dmabuf.exporter.gpu;

import dmabuf.api.DmaBufRegistry;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.exporter.gpu.api.Gpu;

/** Test access to the GPU exporter without a framework (same package: its constructor is package-private). */
public final class TestGpuExporters {
    private TestGpuExporters() {
    }

    /** The default GPU: gpu0, 64 MB VRAM anywhere, 64 MB system memory. */
    public static Gpu create(DmaBufRegistry registry, PhysicalMemory memory) {
        return new GpuDevice(GpuSettings.defaults(), registry, memory, new GpuLog() {
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

    public static void close(Gpu gpu) {
        ((GpuDevice) gpu).close();
    }
}
