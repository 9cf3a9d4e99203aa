package dmabuf.importer.encoder;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.Deflater;

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
import dmabuf.importer.encoder.api.EncodedFrame;
import dmabuf.importer.encoder.api.Encoder;
import dmabuf.importer.encoder.api.RawFrame;

/**
 * The encoder importer: java.util.zip's deflate fed with direct buffers over the exporter's memory, row by row, so the
 * frame is never copied to the heap. Holds nothing between frames; {@link #deactivate} waits (bounded) for encodes in
 * flight and refuses later ones.
 */
@Component(name = DeflateEncoder.PID, configurationPid = DeflateEncoder.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = {Encoder.class, DmaBufImporter.class},
        property = {DmaBufImporter.NAME + "=encoder", DmaBufImporter.CAPABILITIES + "=m2m:zlib"})
@Designate(ocd = EncoderConfig.class)
public final class DeflateEncoder implements Encoder, DmaBufImporter {
    /** The configuration PID and component name. */
    public static final String PID = "dmabuf.importer.encoder";
    private static final long DRAIN_MILLIS = 2000;

    private final DmaBufRegistry registry;
    private final Device device;
    private final int level;
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private volatile boolean closed;

    /**
     * @param registry this bundle's dma-buf registry
     * @param config   the encoder's configuration
     */
    @Activate
    public DeflateEncoder(@Reference(name = "registry") DmaBufRegistry registry, EncoderConfig config) {
        this(registry, Device.of(config.device_name()), config.level());
    }

    DeflateEncoder(DmaBufRegistry registry, Device device, int level) {
        if (level < 0 || level > 9) {
            throw new IllegalArgumentException("level must be 0..9, not " + level);
        }
        this.registry = registry;
        this.device = device;
        this.level = level;
    }

    /** Waits for encodes in flight (bounded), then refuses new ones with ENODEV. */
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
    @SuppressWarnings("try") // the DMA import is held, not used, while the CPU reads: that is its point
    public EncodedFrame encode(DmaBuf frame, RawFrame layout, long sequence) {
        if (!gate.readLock().tryLock()) {
            throw gone();
        }
        try {
            if (closed) {
                throw gone();
            }
            Deflater deflater = new Deflater(level);
            try (DeviceImport dma = DeviceImport.open(registry, frame, device, DmaDataDirection.TO_DEVICE,
                    layout.span());
                    CpuView view = CpuView.open(registry, frame, DmaDataDirection.FROM_DEVICE)) {
                Output out = new Output(layout.visibleBytes() / 4 + 1024);
                long row = (long) layout.width() * layout.bytesPerPixel();
                for (int y = 0; y < layout.height(); y++) {
                    view.forEachChunk((long) y * layout.pitch(), row, chunk -> {
                        deflater.setInput(chunk);
                        while (!deflater.needsInput()) {
                            out.drain(deflater);
                        }
                    });
                }
                deflater.finish();
                while (!deflater.finished()) {
                    out.drain(deflater);
                }
                return new EncodedFrame(sequence, layout.visibleBytes(), out.bytes(), view.access());
            } finally {
                deflater.end();
            }
        } finally {
            gate.readLock().unlock();
        }
    }

    private DmaBufException gone() {
        return new DmaBufException(Errno.ENODEV, "encoder '" + device.name() + "' has stopped");
    }

    /** The compressed stream, growing as needed (its bytes are output, not a copy of the frame). */
    private static final class Output {
        private byte[] buf;
        private int length;

        Output(long initial) {
            buf = new byte[(int) Math.min(Math.max(initial, 4096), 64 << 20)];
        }

        void drain(Deflater deflater) {
            if (length == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            length += deflater.deflate(buf, length, buf.length - length);
        }

        byte[] bytes() {
            return Arrays.copyOf(buf, length);
        }
    }

    @Override
    public String toString() {
        return "encoder '" + device.name() + "'";
    }
}
