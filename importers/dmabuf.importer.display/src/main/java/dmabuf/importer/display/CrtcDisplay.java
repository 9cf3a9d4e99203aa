package dmabuf.importer.display;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32;

import javax.imageio.ImageIO;

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
import dmabuf.importer.common.Cleanup;
import dmabuf.importer.common.CpuView;
import dmabuf.importer.common.DeviceImport;
import dmabuf.importer.display.api.Display;
import dmabuf.importer.display.api.Framebuffer;
import dmabuf.importer.display.api.ScanoutResult;

/**
 * The display importer: one crtc whose scanout engine needs contiguous memory within its DMA mask. The "scanout" is
 * the CPU reading the visible rows in place (vmap, or kmap when refused) and computing their CRC-32, as a pipe CRC.
 * The framebuffer on screen stays referenced, attached and mapped until replaced; {@link #deactivate} gives it back.
 */
@Component(name = CrtcDisplay.PID, configurationPid = CrtcDisplay.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = {Display.class, DmaBufImporter.class},
        property = {DmaBufImporter.NAME + "=display", DmaBufImporter.CAPABILITIES + "=scanout:XRGB8888",
            DmaBufImporter.CAPABILITIES + "=crc32", DmaBufImporter.CAPABILITIES + "=png"})
@Designate(ocd = DisplayConfig.class)
public final class CrtcDisplay implements Display, DmaBufImporter {
    /** The configuration PID and component name. */
    public static final String PID = "dmabuf.importer.display";

    private final DmaBufRegistry registry;
    private final Device device;
    private final long lockTimeoutMillis;
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private OnScreen current;
    private long flips;
    private boolean closed;

    /** What is on screen: the display's own reference and its DMA import. */
    private record OnScreen(DmaBuf fb, Framebuffer layout, DeviceImport dma) {
    }

    /**
     * @param registry this bundle's dma-buf registry
     * @param config   the display's configuration
     */
    @Activate
    public CrtcDisplay(@Reference(name = "registry") DmaBufRegistry registry, DisplayConfig config) {
        this(registry, Device.of(config.name()).withDmaMask(mask(config.dma_mask_bits())).withContiguous(true),
                config.lock_timeout_ms());
    }

    CrtcDisplay(DmaBufRegistry registry, Device device, long lockTimeoutMillis) {
        this.registry = registry;
        this.device = device;
        this.lockTimeoutMillis = lockTimeoutMillis;
    }

    static long mask(int bits) {
        if (bits < 12 || bits > 64) {
            throw new IllegalArgumentException("dma.mask.bits must be 12..64, not " + bits);
        }
        return bits == 64 ? Device.DMA_MASK_64 : (1L << bits) - 1;
    }

    /** Takes the framebuffer off screen (giving back its reference, attachment and mapping); later calls: ENODEV. */
    @Deactivate
    void deactivate() {
        lock();
        try {
            closed = true;
            release();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public void check(DmaBuf fb, Framebuffer layout) {
        lockOpen();
        try {
            DeviceImport.open(registry, fb, device, DmaDataDirection.TO_DEVICE, layout.bytes()).close();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public ScanoutResult pageFlip(DmaBuf fb, Framebuffer layout) {
        lockOpen();
        try {
            OnScreen next;
            long crc;
            String access;
            try (Cleanup undo = new Cleanup()) {
                DmaBuf own = registry.get(fb);
                undo.push(() -> registry.put(own));
                DeviceImport dma = DeviceImport.open(registry, own, device, DmaDataDirection.TO_DEVICE,
                        layout.bytes());
                undo.push(dma::close);
                try (CpuView view = CpuView.open(registry, own, DmaDataDirection.FROM_DEVICE)) {
                    crc = crc(view, layout);
                    access = view.access();
                }
                next = new OnScreen(own, layout, dma);
                undo.release();
            }
            release();
            current = next;
            return new ScanoutResult(crc, ++flips, access);
        } finally {
            lock.unlock();
        }
    }

    /** The pipe CRC: the visible bytes of each row, read in place. */
    private static long crc(CpuView view, Framebuffer layout) {
        CRC32 crc = new CRC32();
        for (int y = 0; y < layout.height(); y++) {
            view.forEachChunk((long) y * layout.pitch(), 4L * layout.width(), crc::update);
        }
        return crc.getValue();
    }

    @Override
    public void writeSnapshot(Path png) {
        lockOpen();
        try {
            if (current == null) {
                throw new DmaBufException(Errno.EINVAL, "display '" + device.name() + "' has nothing on screen to "
                        + "snapshot");
            }
            Framebuffer l = current.layout();
            BufferedImage image = new BufferedImage(l.width(), l.height(), BufferedImage.TYPE_INT_RGB);
            byte[] row = new byte[4 * l.width()];
            try (CpuView view = CpuView.open(registry, current.fb(), DmaDataDirection.FROM_DEVICE)) {
                for (int y = 0; y < l.height(); y++) {
                    view.copyTo((long) y * l.pitch(), row, 0, row.length);
                    for (int x = 0; x < l.width(); x++) {
                        int o = 4 * x;
                        image.setRGB(x, y, (row[o + 2] & 0xFF) << 16 | (row[o + 1] & 0xFF) << 8 | row[o] & 0xFF);
                    }
                }
            }
            try {
                if (!ImageIO.write(image, "png", png.toFile())) {
                    throw new IOException("no PNG writer in this runtime");
                }
            } catch (IOException e) {
                throw new DmaBufException(Errno.EIO, "display '" + device.name() + "' could not write " + png + ": "
                        + e.getMessage(), e);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void disable() {
        lock();
        try {
            release();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public long flips() {
        lock();
        try {
            return flips;
        } finally {
            lock.unlock();
        }
    }

    /** Gives back what is on screen. Called with the lock held. */
    private void release() {
        OnScreen old = current;
        current = null;
        if (old != null) {
            try (Cleanup undo = new Cleanup()) {
                undo.push(() -> registry.put(old.fb()));
                undo.push(old.dma()::close);
            }
        }
    }

    private void lockOpen() {
        lock();
        if (closed) {
            lock.unlock();
            throw new DmaBufException(Errno.ENODEV, "display '" + device.name() + "' has stopped");
        }
    }

    /** Bounded: a stuck caller costs the others ETIMEDOUT, never a hang. */
    private void lock() {
        try {
            if (!lock.tryLock(lockTimeoutMillis, TimeUnit.MILLISECONDS)) {
                throw new DmaBufException(Errno.ETIMEDOUT, "display '" + device.name() + "' was busy for "
                        + lockTimeoutMillis + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DmaBufException(Errno.EINTR, "interrupted while waiting for display '" + device.name() + "'");
        }
    }

    @Override
    public String toString() {
        return "display '" + device.name() + "'";
    }
}
