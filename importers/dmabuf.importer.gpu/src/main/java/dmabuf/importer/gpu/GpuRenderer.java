package dmabuf.importer.gpu;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufImporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.importer.common.CpuView;
import dmabuf.importer.common.DeviceImport;
import dmabuf.importer.gpu.api.ColourMatrix;
import dmabuf.importer.gpu.api.ColourRenderer;
import dmabuf.importer.gpu.api.RenderResult;
import dmabuf.importer.gpu.api.RenderTarget;
import dmabuf.importer.gpu.api.SourceFormat;
import dmabuf.importer.gpu.api.Texture;

/**
 * The GPU importer: a {@link ColourRenderer} whose "shader" runs on the CPU, reading the texture and writing the
 * framebuffer through the exporters' own memory. Holds nothing between renders; {@link #deactivate} waits (bounded)
 * for renders in flight, whose brackets and attachments are undone as they finish, and refuses later ones.
 */
@Component(name = GpuRenderer.PID, configurationPid = GpuRenderer.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = {ColourRenderer.class, DmaBufImporter.class},
        property = {DmaBufImporter.NAME + "=gpu", DmaBufImporter.CAPABILITIES + "=texture:NV12,RGBA",
            DmaBufImporter.CAPABILITIES + "=render:XRGB8888"})
@Designate(ocd = GpuImporterConfig.class)
public final class GpuRenderer implements ColourRenderer, DmaBufImporter {
    /** The configuration PID and component name. */
    public static final String PID = "dmabuf.importer.gpu";
    /** How long deactivation waits for renders in flight. */
    private static final long DRAIN_MILLIS = 2000;

    private final DmaBufRegistry registry;
    private final Device device;
    /** Renders share it; deactivation takes it exclusively to wait for them. */
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private volatile boolean closed;

    /**
     * @param registry this bundle's dma-buf registry
     * @param config   the GPU's configuration
     */
    @Activate
    public GpuRenderer(@Reference(name = "registry") DmaBufRegistry registry, GpuImporterConfig config) {
        this(registry, Device.of(config.device_name()).withDmaMask(mask(config.dma_mask_bits())));
    }

    GpuRenderer(DmaBufRegistry registry, Device device) {
        this.registry = registry;
        this.device = device;
    }

    static long mask(int bits) {
        if (bits < 12 || bits > 64) {
            throw new IllegalArgumentException("dma.mask.bits must be 12..64, not " + bits);
        }
        return bits == 64 ? Device.DMA_MASK_64 : (1L << bits) - 1;
    }

    /** Waits for renders in flight (bounded), then refuses new ones with ENODEV. */
    @Deactivate
    void deactivate() throws InterruptedException {
        closed = true;
        if (gate.writeLock().tryLock(DRAIN_MILLIS, TimeUnit.MILLISECONDS)) {
            gate.writeLock().unlock();
        }
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    @SuppressWarnings("try") // the DMA imports are held, not used, while the kernel runs: that is their point
    public RenderResult render(DmaBuf source, Texture texture, DmaBuf target, RenderTarget layout,
            ColourMatrix matrix) {
        if (texture.width() != layout.width() || texture.height() != layout.height()) {
            throw new DmaBufException(Errno.EINVAL, "GPU '" + device.name() + "' does not scale: texture "
                    + texture.width() + "x" + texture.height() + " into target " + layout.width() + "x"
                    + layout.height());
        }
        if (!gate.readLock().tryLock()) {
            throw gone();
        }
        try {
            if (closed) {
                throw gone();
            }
            try (DeviceImport in = DeviceImport.open(registry, source, device, DmaDataDirection.TO_DEVICE,
                    texture.bytes());
                    DeviceImport out = DeviceImport.open(registry, target, device, DmaDataDirection.FROM_DEVICE,
                            layout.bytes());
                    CpuView src = CpuView.open(registry, source, DmaDataDirection.FROM_DEVICE);
                    CpuView dst = CpuView.open(registry, target, DmaDataDirection.TO_DEVICE)) {
                if (texture.format() == SourceFormat.NV12) {
                    nv12(src, texture, dst, layout, matrix);
                } else {
                    rgba(src, texture, dst, layout, matrix);
                }
                return new RenderResult(src.access(), dst.access(), src.bytesCopied() + dst.bytesCopied());
            }
        } finally {
            gate.readLock().unlock();
        }
    }

    private DmaBufException gone() {
        return new DmaBufException(Errno.ENODEV, "GPU '" + device.name() + "' has stopped");
    }

    /** The kernel for NV12: one chroma pair per 2x2 block, read once per two pixels of a row. */
    private static void nv12(CpuView src, Texture t, CpuView dst, RenderTarget l, ColourMatrix m) {
        int w = t.width();
        int h = t.height();
        long pitch = t.pitch();
        long chromaBase = pitch * h;
        for (int y = 0; y < h; y++) {
            long luma = y * pitch;
            long chroma = chromaBase + (y >> 1) * pitch;
            long out = y * (long) l.pitch();
            for (int x = 0; x < w; x += 2) {
                int cb = src.get(chroma + x);
                int cr = src.get(chroma + x + 1);
                dst.setIntLE(out + 4L * x, m.xrgbOfYCbCr(src.get(luma + x), cb, cr));
                dst.setIntLE(out + 4L * x + 4, m.xrgbOfYCbCr(src.get(luma + x + 1), cb, cr));
            }
        }
    }

    /** The kernel for RGBA: alpha is ignored (the target has none). */
    private static void rgba(CpuView src, Texture t, CpuView dst, RenderTarget l, ColourMatrix m) {
        for (int y = 0; y < t.height(); y++) {
            long in = y * (long) t.pitch();
            long out = y * (long) l.pitch();
            for (int x = 0; x < t.width(); x++) {
                long p = in + 4L * x;
                dst.setIntLE(out + 4L * x, m.xrgb(src.get(p), src.get(p + 1), src.get(p + 2)));
            }
        }
    }

    @Override
    public String toString() {
        return "GPU importer '" + device.name() + "'";
    }
}
