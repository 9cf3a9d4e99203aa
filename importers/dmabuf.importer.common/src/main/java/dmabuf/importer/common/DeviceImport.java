package dmabuf.importer.common;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;

/**
 * A device's import of a dma-buf: attached and mapped for DMA, the sg table checked to cover what the device will
 * touch. Closing unmaps and detaches. Not thread-safe.
 */
public final class DeviceImport implements AutoCloseable {
    private final DmaBufRegistry registry;
    private final DmaBufAttachment attachment;
    private final SgTable table;
    private final DmaDataDirection direction;
    private boolean closed;

    private DeviceImport(DmaBufRegistry registry, DmaBufAttachment attachment, SgTable table,
            DmaDataDirection direction) {
        this.registry = registry;
        this.attachment = attachment;
        this.table = table;
        this.direction = direction;
    }

    /**
     * Attaches {@code device} to {@code buffer} and maps it in {@code direction}.
     *
     * @param needed the bytes the device will touch: the table must cover them ({@link Errno#EINVAL} otherwise)
     * @throws DmaBufException the exporter's errno when it refuses the device, with what the importer wanted to do
     */
    public static DeviceImport open(DmaBufRegistry registry, DmaBuf buffer, Device device, DmaDataDirection direction,
            long needed) {
        if (needed > buffer.size()) {
            throw new DmaBufException(Errno.EINVAL, "device '" + device.name() + "' needs " + needed + " bytes but "
                    + buffer + " has only " + buffer.size());
        }
        try (Cleanup undo = new Cleanup()) {
            DmaBufAttachment att;
            try {
                att = registry.attach(buffer, device);
            } catch (DmaBufException e) {
                throw new DmaBufException(e.errno(), "device '" + device.name() + "' cannot import " + buffer
                        + " (exporter '" + buffer.exporterName() + "' refused the attachment: " + e.getMessage()
                        + ")", e);
            }
            undo.push(() -> registry.detach(att));
            SgTable table = registry.mapAttachment(att, direction);
            undo.push(() -> registry.unmapAttachment(att, table, direction));
            if (table.totalLength() < needed) {
                throw new DmaBufException(Errno.EIO, "the sg table of " + buffer + " for device '" + device.name()
                        + "' covers " + table.totalLength() + " of the " + needed + " bytes it needs");
            }
            undo.release();
            return new DeviceImport(registry, att, table, direction);
        }
    }

    /** The sg table the device reads or writes through. */
    public SgTable table() {
        return table;
    }

    /** The attachment. */
    public DmaBufAttachment attachment() {
        return attachment;
    }

    /** Unmaps and detaches; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Cleanup undo = new Cleanup()) {
            undo.push(() -> registry.detach(attachment));
            undo.push(() -> registry.unmapAttachment(attachment, table, direction));
        }
    }
}
