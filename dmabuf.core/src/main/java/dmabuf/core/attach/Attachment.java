package dmabuf.core.attach;

import java.util.ArrayList;
import java.util.List;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.SgTable;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;

/**
 * An attachment and its mapped tables. Mutable state is guarded by the buffer's lock.
 */
public final class Attachment implements DmaBufAttachment {

    /** Where an attachment is in its life. */
    public enum State {
        /** Linked to its buffer. */
        ATTACHED,
        /** Unlinked by the core because the buffer was revoked or released; its owner still has to detach. */
        REVOKED,
        /** Detached by its owner. */
        DETACHED
    }

    /** A table mapped for this attachment and the direction it was mapped with. */
    public record MappedTable(SgTable table, DmaDataDirection direction) {
    }

    private final Buffer buffer;
    private final Device device;
    private final DmaBufImporterOps importerOps;
    private final Client client;
    private volatile Object exporterPrivate;
    private volatile State state = State.ATTACHED;

    /** Guarded by the buffer's lock. */
    final List<MappedTable> tables = new ArrayList<>(1);
    /** The cached table with cacheSgtMapping; guarded by the buffer's lock. */
    MappedTable cached;
    /** Pins taken by the importer; guarded by the buffer's lock. */
    int pins;
    /** True while the core holds a pin for a static importer of a dynamic exporter; guarded by the lock. */
    boolean corePinned;

    Attachment(Buffer buffer, Device device, DmaBufImporterOps importerOps, Client client) {
        this.buffer = buffer;
        this.device = device;
        this.importerOps = importerOps;
        this.client = client;
    }

    /** What {@link #dmaBuf()} returns: the buffer, or the leak detector's handle of it; held so it stays valid. */
    private volatile DmaBuf face;

    @Override
    public DmaBuf dmaBuf() {
        DmaBuf f = face;
        return f == null ? buffer : f;
    }

    /** Makes {@link #dmaBuf()} return the handle the bundle knows the buffer by (see {@code LeakDetector}). */
    public void showAs(DmaBuf handle) {
        face = handle;
    }

    /** The buffer, typed. */
    public Buffer buffer() {
        return buffer;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public boolean isDynamic() {
        return importerOps != null;
    }

    @Override
    public boolean isAttached() {
        return state == State.ATTACHED;
    }

    @Override
    public Object exporterPrivate() {
        return exporterPrivate;
    }

    @Override
    public void setExporterPrivate(Object priv) {
        this.exporterPrivate = priv;
    }

    /** The importer's callbacks, or null for a static importer. */
    public DmaBufImporterOps importerOps() {
        return importerOps;
    }

    /** The bundle that attached. */
    public Client client() {
        return client;
    }

    /** The state. */
    public State state() {
        return state;
    }

    void setState(State newState) {
        this.state = newState;
    }

    /** Tables currently mapped (racy outside the lock; for display). */
    public int mappedTableCount() {
        return tables.size();
    }

    /** Pins held (racy outside the lock; for display). */
    public int pinCount() {
        return pins + (corePinned ? 1 : 0);
    }

    @Override
    public String toString() {
        return "attachment of device '" + device.name() + "' to " + buffer + " by " + client;
    }
}
