package dmabuf.pipeline.internal;

import java.util.ArrayList;
import java.util.List;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.PixelFormat;
import dmabuf.importer.common.Cleanup;
import dmabuf.importer.display.api.Framebuffer;
import dmabuf.importer.encoder.api.RawFrame;
import dmabuf.importer.gpu.api.RenderTarget;
import dmabuf.importer.gpu.api.SourceFormat;
import dmabuf.importer.gpu.api.Texture;

/**
 * A run's buffers: the camera's (REQBUFS + EXPBUF) and the framebuffers ({@link FramebufferDevice}), each
 * with the pipeline's own reference, every framebuffer checked scan-out capable before the first frame. Allocation is
 * all or nothing; {@link #release} gives everything back exactly once.
 */
final class RunBuffers {
    final CaptureDevice camera;
    final Format format;
    final DmaBuf[] cameraBuffers;
    final DmaBuf[] framebuffers;
    final Texture texture;
    final RenderTarget target;
    final Framebuffer framebuffer;
    final RawFrame raw;
    /** The framebuffers' device service (scanout device or GPU). */
    private final Object framebufferService;
    private final PipelineSettings settings;
    private final DmaBufRegistry registry;
    private final Stages stages;
    private Cleanup undo;

    private RunBuffers(Stages stages, PipelineSettings settings, CaptureDevice camera, Object framebufferService,
            Format format, DmaBuf[] cameraBuffers, DmaBuf[] framebuffers, int pitch, Cleanup undo) {
        this.stages = stages;
        this.settings = settings;
        this.framebufferService = framebufferService;
        this.registry = stages.registry();
        this.camera = camera;
        this.format = format;
        this.cameraBuffers = cameraBuffers;
        this.framebuffers = framebuffers;
        this.texture = new Texture(format.pixelFormat() == PixelFormat.NV12 ? SourceFormat.NV12 : SourceFormat.RGBA,
                format.width(), format.height(), format.bytesPerLine());
        this.target = new RenderTarget(format.width(), format.height(), pitch);
        this.framebuffer = new Framebuffer(format.width(), format.height(), pitch);
        this.raw = new RawFrame(format.width(), format.height(), pitch, 4);
        this.undo = undo;
    }

    /**
     * Finds the devices, sets the format, allocates and exports every buffer, checks the display can scan out the
     * framebuffers, queues the camera buffers and starts streaming.
     *
     * @throws DmaBufException ENODEV naming a missing device; EBUSY for a camera already streaming; the devices'
     *     and exporters' errnos (EINVAL format, ENOMEM memory, the display's refusal); nothing is left allocated
     */
    static RunBuffers allocate(Stages stages, PipelineSettings s) {
        CaptureDevice camera = stages.cameras().apply(s.camera());
        if (camera == null) {
            throw new DmaBufException(Errno.ENODEV, "camera '" + s.camera() + "' is not present: configure "
                    + "dmabuf.exporter.v4l2 with name=" + s.camera() + " or set the pipeline's camera");
        }
        FramebufferDevice fbDevice = FramebufferDevice.find(stages, s.framebufferDevice());
        Object fbService = FramebufferDevice.service(stages, s.framebufferDevice());
        if (camera.isStreaming()) {
            throw new DmaBufException(Errno.EBUSY, "camera '" + s.camera() + "' is already streaming for someone "
                    + "else");
        }
        DmaBufRegistry registry = stages.registry();
        Cleanup undo = new Cleanup();
        try {
            Format format = camera.setFormat(s.format(), s.width(), s.height());
            undo.push(() -> camera.requestBuffers(0));
            int count = camera.requestBuffers(s.bufferCount());
            if (count < 2) {
                throw new DmaBufException(Errno.ENOMEM, "camera '" + s.camera() + "' has memory for " + count
                        + " buffer(s) of " + format + "; a pipeline needs at least 2");
            }
            DmaBuf[] cameraBuffers = new DmaBuf[count];
            for (int i = 0; i < count; i++) {
                DmaBuf own = registry.get(camera.exportBuffer(i, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC));
                undo.push(() -> registry.put(own));
                cameraBuffers[i] = own;
            }
            DmaBuf[] framebuffers = new DmaBuf[s.framebufferCount()];
            int pitch = 0;
            for (int i = 0; i < framebuffers.length; i++) {
                FramebufferDevice.Allocated fb = fbDevice.allocate(s.width(), s.height());
                undo.push(fb.destroy());
                DmaBuf own = registry.get(fb.buffer());
                undo.push(() -> registry.put(own));
                framebuffers[i] = own;
                pitch = fb.pitch();
            }
            RunBuffers buffers = new RunBuffers(stages, s, camera, fbService, format, cameraBuffers, framebuffers,
                    pitch, undo);
            for (DmaBuf fb : framebuffers) {
                stages.display().check(fb, buffers.framebuffer);
            }
            undo.push(stages.display()::disable);
            for (int i = 0; i < count; i++) {
                camera.queue(i);
            }
            undo.push(camera::streamOff);
            camera.streamOn();
            return buffers;
        } catch (RuntimeException e) {
            try {
                undo.close();
            } catch (RuntimeException secondary) {
                e.addSuppressed(secondary);
            }
            throw e;
        }
    }

    /** Stops the camera, takes the frame off screen and gives every buffer back; idempotent. */
    synchronized void release() {
        Cleanup steps = undo;
        undo = null;
        if (steps != null) {
            steps.close();
        }
    }

    /** The ids of the buffers the run holds; empty once released. */
    synchronized List<Long> heldIds() {
        List<Long> ids = new ArrayList<>();
        if (undo != null) {
            for (DmaBuf b : cameraBuffers) {
                ids.add(b.id());
            }
            for (DmaBuf b : framebuffers) {
                ids.add(b.id());
            }
        }
        return ids;
    }

    /**
     * Whether the camera or the framebuffers' device the run allocated from went away (unbound or replaced, as when
     * its bundle is updated); a device that stops mid-call may report anything (EINVAL after its STREAMOFF).
     */
    boolean deviceGone() {
        return stages.cameras().apply(settings.camera()) != camera
                || FramebufferDevice.service(stages, settings.framebufferDevice()) != framebufferService;
    }

    /** Every buffer of the run: camera buffers, then framebuffers. */
    List<DmaBuf> allBuffers() {
        List<DmaBuf> all = new ArrayList<>(List.of(cameraBuffers));
        all.addAll(List.of(framebuffers));
        return all;
    }

    /** The bytes of the buffers the run holds. */
    synchronized long heldBytes() {
        long bytes = 0;
        if (undo != null) {
            for (DmaBuf b : cameraBuffers) {
                bytes += b.size();
            }
            for (DmaBuf b : framebuffers) {
                bytes += b.size();
            }
        }
        return bytes;
    }

    Stages stages() {
        return stages;
    }
}
