package dmabuf.importer.gpu;

import dmabuf.api.Device;
import dmabuf.api.DmaBufRegistry;
import dmabuf.importer.gpu.api.ColourRenderer;

/** Test access to the GPU importer without a framework. */
public final class TestGpus {
    private TestGpus() {
    }

    public static ColourRenderer create(DmaBufRegistry registry) {
        return new GpuRenderer(registry, Device.of("render0"));
    }
}
