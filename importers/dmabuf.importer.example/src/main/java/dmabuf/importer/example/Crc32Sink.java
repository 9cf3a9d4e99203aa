package dmabuf.importer.example;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufImporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufSink;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;

/**
 * An example importer driver: a checksum engine "crc0". For every buffer handed to it, it attaches its device, maps
 * the buffer for the device (the DMA view: here only checked to cover the buffer), then reads the bytes through a CPU
 * view inside a {@code FROM_DEVICE} bracket and computes their CRC-32 in place: vmap, or page by page with kmap when
 * the exporter has no vmap. Everything is undone before {@link #accept} returns, on success and on failure alike, so
 * the sink never holds anything between frames.
 * <p>
 * Its counters are the properties of a {@link SinkStatus} service.
 */
@Component(name = "dmabuf.importer.example", immediate = true,
        service = { DmaBufSink.class, DmaBufImporter.class },
        property = {
            DmaBufImporter.NAME + "=" + Crc32Sink.IMPORTER_NAME,
            DmaBufImporter.DEVICE + "=" + Crc32Sink.DEVICE_NAME,
            DmaBufImporter.CAPABILITIES + "=crc32"
        })
public final class Crc32Sink implements DmaBufSink, DmaBufImporter {
    /** The {@link DmaBufImporter#NAME} of this importer. */
    public static final String IMPORTER_NAME = "crc32";
    /** The name of its device. */
    public static final String DEVICE_NAME = "crc0";

    /** The longest deactivation waits for calls of {@link #accept} in progress. */
    static final long DRAIN_WAIT_MS = 2_000;

    /** A coherent device without DMA limits. */
    private static final Device DEVICE = Device.of(DEVICE_NAME);

    private final DmaBufRegistry registry;
    private final Logger logger;
    private final StatusRegistration status;
    /**
     * Calls of {@link #accept} in progress hold the read lock; {@link #deactivate()} takes the write lock to wait for
     * them. A producer may still be inside {@code accept} on its own thread when this component is deactivated; if
     * deactivation returned then, the registry would be released with the frame's attachment still held, and the
     * core would reclaim it and report it as this bundle's leak.
     */
    private final ReentrantReadWriteLock calls = new ReentrantReadWriteLock();
    private volatile boolean stopping;
    private long frames;
    private long bytes;
    private long lastCrc = -1;

    /**
     * @param context  the bundle's context, for the status service
     * @param registry this bundle's dma-buf registry
     * @param logger   this component's logger
     */
    @Activate
    public Crc32Sink(BundleContext context, @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        this.registry = registry;
        this.logger = logger;
        this.status = new StatusRegistration(context, Map.of(
                SinkStatus.IMPORTER_NAME, IMPORTER_NAME,
                SinkStatus.FRAMES, 0L,
                SinkStatus.BYTES, 0L,
                SinkStatus.LAST_SEQUENCE, -1L,
                SinkStatus.LAST_CRC32, -1L,
                SinkStatus.LAST_SIZE, 0L,
                SinkStatus.LAST_ACCESS, "none"));
    }

    /**
     * Nothing to release: the sink takes no reference, attachment, mapping, vmap or bracket that outlives
     * {@link #accept}, so the core has nothing to reclaim (and no leak to report) when this bundle stops, once the
     * calls in progress have ended: this waits for them (bounded) and refuses new ones.
     */
    @Deactivate
    void deactivate() {
        stopping = true; // new calls are refused from now on
        boolean interrupted = false;
        boolean drained = false;
        try {
            drained = calls.writeLock().tryLock(DRAIN_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (drained) {
            calls.writeLock().unlock();
        } else {
            logger.warn("a frame was still being checked after {} ms; the core reclaims what it holds",
                    DRAIN_WAIT_MS);
        }
        status.unregister();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Checks one frame.
     *
     * @throws DmaBufException {@link Errno#ENODEV} once the sink is stopping, or the error of the registry call
     *         that failed
     */
    @Override
    public void accept(DmaBuf buffer, long sequence) {
        if (stopping || !calls.readLock().tryLock()) {
            throw new DmaBufException(Errno.ENODEV, this + " is stopping; frame " + sequence + " was not checked");
        }
        try {
            if (stopping) {
                throw new DmaBufException(Errno.ENODEV, this + " is stopping; frame " + sequence
                        + " was not checked");
            }
            check(buffer, sequence);
        } finally {
            calls.readLock().unlock();
        }
    }

    private void check(DmaBuf buffer, long sequence) {
        Checksum sum;
        // The producer keeps its reference for the duration of this call, so the sink needs none of its own.
        try (Cleanup undo = new Cleanup()) {
            DmaBufAttachment attachment = registry.attach(buffer, DEVICE);
            undo.push(() -> registry.detach(attachment));
            SgTable table = registry.mapAttachment(attachment, DmaDataDirection.FROM_DEVICE);
            undo.push(() -> registry.unmapAttachment(attachment, table, DmaDataDirection.FROM_DEVICE));
            if (table.totalLength() < buffer.size()) {
                throw new DmaBufException(Errno.EIO, "the table of " + buffer + " covers " + table.totalLength()
                        + " of its " + buffer.size() + " bytes");
            }
            registry.beginCpuAccess(buffer, DmaDataDirection.FROM_DEVICE);
            undo.push(() -> registry.endCpuAccess(buffer, DmaDataDirection.FROM_DEVICE));
            sum = checksum(buffer);
        }
        record(buffer, sequence, sum);
    }

    /** The CRC through vmap, or through kmap page by page when the exporter has no vmap (EINVAL). */
    private Checksum checksum(DmaBuf buffer) {
        MemorySegment view;
        try {
            view = registry.vmap(buffer);
        } catch (DmaBufException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
            logger.debug("no vmap for {} ({}); reading it page by page", buffer, e.getMessage());
            return new Checksum(kmapCrc(buffer), "kmap");
        }
        try {
            return new Checksum(Crc32s.of(view.asSlice(0, buffer.size())), "vmap");
        } finally {
            registry.vunmap(buffer, view);
        }
    }

    private long kmapCrc(DmaBuf buffer) {
        CRC32 crc = new CRC32();
        for (long page = 0; page < buffer.pageCount(); page++) {
            MemorySegment bytes = registry.kmap(buffer, page);
            try {
                Crc32s.update(crc, bytes);
            } finally {
                registry.kunmap(buffer, page, bytes);
            }
        }
        return crc.getValue();
    }

    private synchronized void record(DmaBuf buffer, long sequence, Checksum sum) {
        frames++;
        bytes += buffer.size();
        lastCrc = sum.crc();
        status.update(Map.of(
                SinkStatus.FRAMES, frames,
                SinkStatus.BYTES, bytes,
                SinkStatus.LAST_SEQUENCE, sequence,
                SinkStatus.LAST_CRC32, lastCrc,
                SinkStatus.LAST_SIZE, buffer.size(),
                SinkStatus.LAST_ACCESS, sum.access()));
        logger.info("frame {} ({}, {} bytes, via {}): crc32={}", sequence, buffer.name().orElse("unnamed"),
                buffer.size(), sum.access(), Crc32s.hex(sum.crc()));
    }

    /** Frames checksummed so far. */
    public synchronized long frames() {
        return frames;
    }

    /** Bytes checksummed so far. */
    public synchronized long bytes() {
        return bytes;
    }

    /** The CRC-32 of the last frame, or -1 before the first. */
    public synchronized long lastCrc() {
        return lastCrc;
    }

    @Override
    public String toString() {
        return "importer '" + IMPORTER_NAME + "' (device " + DEVICE_NAME + ")";
    }

    private record Checksum(long crc, String access) {
    }
}
