package dmabuf.pipeline.internal;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.scanout.api.DumbBuffer;
import dmabuf.exporter.scanout.api.DumbBufferDevice;

/**
 * Where the GPU renders: XRGB8888 framebuffers from a scanout device (KMS dumb buffers, contiguous DMA32 memory) or
 * from a GPU (GEM objects in VRAM, PRIME-exported). Which one the display can scan out is the exporters' call, made
 * when the display checks each framebuffer before the first frame.
 */
interface FramebufferDevice {

    /**
     * A framebuffer and how to give it back.
     *
     * @param buffer  the exported dma-buf (the device's reference: take your own)
     * @param pitch   bytes per row
     * @param destroy closes the handle (the storage goes when the last reference does)
     */
    record Allocated(DmaBuf buffer, int pitch, Runnable destroy) {
    }

    /** Allocates and exports one {@code width x height} XRGB8888 framebuffer. */
    Allocated allocate(int width, int height);

    /** The service behind the device named {@code name} (a scanout device, else a GPU), or null when absent. */
    static Object service(Stages stages, String name) {
        DumbBufferDevice scanout = stages.scanouts().apply(name);
        return scanout != null ? scanout : stages.gpus().apply(name);
    }

    /**
     * The device named {@code name}: a scanout device, else a GPU.
     *
     * @throws DmaBufException {@link Errno#ENODEV} naming it when neither has that name
     */
    static FramebufferDevice find(Stages stages, String name) {
        DumbBufferDevice scanout = stages.scanouts().apply(name);
        if (scanout != null) {
            return (w, h) -> {
                DumbBuffer dumb = scanout.createDumb(w, h, 32, 0);
                try {
                    return new Allocated(scanout.exportDumb(dumb.handle(),
                            DumbBufferDevice.DRM_RDWR | DumbBufferDevice.DRM_CLOEXEC), dumb.pitch(),
                            () -> scanout.destroyDumb(dumb.handle()));
                } catch (RuntimeException e) {
                    scanout.destroyDumb(dumb.handle());
                    throw e;
                }
            };
        }
        Gpu gpu = stages.gpus().apply(name);
        if (gpu != null) {
            return (w, h) -> {
                int pitch = 4 * w;
                int handle = gpu.createObject((long) pitch * h);
                try {
                    return new Allocated(gpu.primeExport(handle, Gpu.DRM_RDWR | Gpu.DRM_CLOEXEC), pitch,
                            () -> gpu.closeHandle(handle));
                } catch (RuntimeException e) {
                    gpu.closeHandle(handle);
                    throw e;
                }
            };
        }
        throw new DmaBufException(Errno.ENODEV, "framebuffer device '" + name + "' is not present: configure "
                + "dmabuf.exporter.scanout (dumb buffers) or dmabuf.exporter.gpu with name=" + name
                + ", or set the pipeline's framebuffer.device");
    }
}
