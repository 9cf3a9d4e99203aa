package dmabuf.core.attach;

import java.util.List;

import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.core.DmaBufCore;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.buffer.OpsContract;
import dmabuf.core.client.Client;

/**
 * Attachments and their mappings: {@code dma_buf_attach}, {@code detach}, {@code map_attachment},
 * {@code unmap_attachment}, {@code pin}, {@code unpin}.
 * <p>
 * DOC: detach of a mapped attachment. Detach cleanly unmaps every table still mapped for the attachment, each with
 * the direction it was mapped with (as the kernel does for its cached table), before the exporter's detach runs; an
 * importer's teardown therefore never fails because it forgot an unmap.
 * <p>
 * DOC: cleanup after revocation. When the exporter revokes a buffer the core unmaps and detaches for the importers.
 * Their later unmap and detach calls succeed without reaching the exporter, so teardown code needs no special case;
 * everything else on a revoked attachment fails with ENODEV.
 */
public final class AttachmentService {
    private final DmaBufCore core;

    /** @param core the core */
    public AttachmentService(DmaBufCore core) {
        this.core = core;
    }

    /** {@code dma_buf_attach} / {@code dma_buf_dynamic_attach}. */
    public Attachment attach(Client client, Buffer b, Device device, DmaBufImporterOps importerOps, boolean dynamic) {
        if (device == null) {
            throw Errors.einval("attach needs a Device, not null");
        }
        if (dynamic && importerOps == null) {
            throw Errors.einval("dynamicAttach needs DmaBufImporterOps to tell the importer when mappings move");
        }
        b.enter();
        try {
            Attachment a = new Attachment(b, device, importerOps, client);
            if (b.implementsOp(OpsContract.Op.ATTACH)) {
                try {
                    b.ops().attach(b, a);
                } catch (Exception | LinkageError e) {
                    throw core.guard().failed(b, "attach", e);
                }
            }
            boolean linked = false;
            try {
                b.lock(core.config().lockTimeoutMillis());
                try {
                    b.checkLive();
                    if (b.isDynamicExporter() && !a.isDynamic()) {
                        // A static importer cannot follow a move: keep the storage where it is while attached.
                        core.guard().locked(b, "pin", () -> b.ops().pin(a));
                        a.corePinned = true;
                    }
                    b.attachmentsLocked().add(a);
                    linked = true;
                } finally {
                    b.unlock();
                }
            } finally {
                if (!linked) {
                    exporterDetach(a);
                }
            }
            client.attachments().add(a);
            core.changed();
            return a;
        } finally {
            b.exit();
        }
    }

    /** {@code dma_buf_detach}. */
    public void detach(Client client, DmaBufAttachment handle) {
        Attachment a = own(client, handle);
        Buffer b = a.buffer();
        b.enterCleanup(); // a revoke or release running meanwhile waits for the exporter's detach before release
        try {
            b.lock(core.config().lockTimeoutMillis());
            boolean wasLinked;
            try {
                switch (a.state()) {
                    case DETACHED -> throw Errors.einval(a + " was already detached");
                    case REVOKED -> wasLinked = false;
                    default -> {
                        unmapAllLocked(a);
                        b.attachmentsLocked().remove(a);
                        wasLinked = true;
                    }
                }
                a.setState(Attachment.State.DETACHED);
            } finally {
                b.unlock();
            }
            client.attachments().remove(a);
            if (wasLinked) {
                exporterDetach(a);
            }
        } finally {
            b.exit();
        }
        core.changed();
    }

    /**
     * Tears down an attachment the core unlinks itself (the buffer was revoked or released, or its bundle went
     * away): tables unmapped, pins dropped, exporter told. Already unlinked from the buffer's list by the caller.
     */
    public void forceDetach(Attachment a) {
        Buffer b = a.buffer();
        boolean locked = false;
        try {
            b.lockForTeardown(core.config().lockTimeoutMillis());
            locked = true;
        } catch (dmabuf.api.DmaBufException e) {
            core.log().error("detaching " + a + " without the buffer's lock: " + e.getMessage(), e);
        }
        try {
            if (a.state() != Attachment.State.ATTACHED) {
                return;
            }
            unmapAllLocked(a);
            a.setState(Attachment.State.REVOKED);
        } finally {
            if (locked) {
                b.unlock();
            }
        }
        exporterDetach(a);
    }

    /** The owner of the attachment detaches it while reclaiming: as {@link #detach} but never failing. */
    public void reclaim(Attachment a) {
        Buffer b = a.buffer();
        boolean wasLinked;
        b.enterCleanup(); // as in detach: a release waits for the exporter's detach
        try {
            b.lockForTeardown(core.config().lockTimeoutMillis());
            try {
                wasLinked = a.state() == Attachment.State.ATTACHED;
                if (wasLinked) {
                    unmapAllLocked(a);
                    b.attachmentsLocked().remove(a);
                }
                a.setState(Attachment.State.DETACHED);
            } finally {
                b.unlock();
            }
            a.client().attachments().remove(a);
            if (wasLinked) {
                exporterDetach(a);
            }
        } finally {
            b.exit();
        }
    }

    /**
     * {@code dma_buf_map_attachment}. A static importer then waits for the buffer's KERNEL fences (a move or clear
     * the exporter started, possibly in map itself), outside the buffer's lock; if that wait fails the table is
     * unmapped again and the wait's error is returned, as in the kernel.
     */
    public SgTable map(Client client, DmaBufAttachment handle, DmaDataDirection direction) {
        Attachment a = own(client, handle);
        SgTable table = mapLocked(a, direction);
        if (!a.isDynamic() && core.fences().mustWait(a.buffer(), dmabuf.api.sync.DmaResvUsage.KERNEL)) {
            try {
                core.fences().waitImplicit(a.buffer(), dmabuf.api.sync.DmaResvUsage.KERNEL,
                        "mapAttachment for device '" + a.device().name() + "'");
            } catch (DmaBufException e) {
                unmap(client, handle, table, direction);
                throw e;
            }
        }
        return table;
    }

    private SgTable mapLocked(Attachment a, DmaDataDirection direction) {
        Errors.checkDirection(direction, "map");
        Buffer b = a.buffer();
        b.lock(core.config().lockTimeoutMillis());
        try {
            checkLinked(a);
            Attachment.MappedTable cached = a.cached;
            if (cached != null) {
                if (cached.direction() == direction || cached.direction() == DmaDataDirection.BIDIRECTIONAL) {
                    return cached.table();
                }
                throw Errors.error(Errno.EBUSY, a + " has a cached table mapped " + cached.direction()
                        + "; it cannot be mapped " + direction + " until it is detached");
            }
            SgTable table = core.guard().lockedReturning(b, "map", () -> b.ops().map(a, direction));
            if (table == null) {
                throw Errors.error(Errno.ENOMEM, "exporter '" + b.exporterName() + "' returned no table from map of "
                        + b + " for device '" + a.device().name() + "'");
            }
            String violation = SgTableCheck.violation(table, b, a.device());
            if (violation != null) {
                core.guard().locked(b, "unmap", () -> b.ops().unmap(a, table, direction));
                throw Errors.error(Errno.EIO, "exporter '" + b.exporterName() + "' mapped " + b + " for device '"
                        + a.device().name() + "' with an unusable table: " + violation
                        + " (the exporter should have refused the attach)");
            }
            Attachment.MappedTable mapped = new Attachment.MappedTable(table, direction);
            a.tables.add(mapped);
            if (b.ops().cacheSgtMapping()) {
                a.cached = mapped;
            }
            return table;
        } finally {
            b.unlock();
        }
    }

    /** {@code dma_buf_unmap_attachment}. */
    public void unmap(Client client, DmaBufAttachment handle, SgTable table, DmaDataDirection direction) {
        Attachment a = own(client, handle);
        Errors.checkDirection(direction, "unmap");
        if (table == null) {
            throw Errors.einval("unmap needs the table map returned, not null");
        }
        Buffer b = a.buffer();
        b.lock(core.config().lockTimeoutMillis());
        try {
            if (a.state() == Attachment.State.REVOKED) {
                return; // already unmapped by the core when the buffer was revoked
            }
            checkNotDetached(a); // a revoke in progress has not reached this attachment yet: unmap as usual
            if (a.cached != null && a.cached.table() == table) {
                return; // the cached table stays mapped until detach
            }
            int index = indexOf(a.tables, table);
            if (index < 0) {
                throw Errors.einval("this table is not mapped for " + a + " (unmapped twice, or from another "
                        + "attachment?)");
            }
            core.guard().locked(b, "unmap", () -> b.ops().unmap(a, table, direction));
            a.tables.remove(index);
        } finally {
            b.unlock();
        }
    }

    /** {@code dma_buf_pin}. */
    public void pin(Client client, DmaBufAttachment handle) {
        Attachment a = own(client, handle);
        Buffer b = a.buffer();
        requireDynamicPair(a, "pin");
        b.lock(core.config().lockTimeoutMillis());
        try {
            checkLinked(a);
            core.guard().locked(b, "pin", () -> b.ops().pin(a));
            a.pins++;
        } finally {
            b.unlock();
        }
    }

    /** {@code dma_buf_unpin}. */
    public void unpin(Client client, DmaBufAttachment handle) {
        Attachment a = own(client, handle);
        Buffer b = a.buffer();
        requireDynamicPair(a, "unpin");
        b.lock(core.config().lockTimeoutMillis());
        try {
            if (a.state() == Attachment.State.REVOKED) {
                return;
            }
            checkNotDetached(a);
            if (a.pins == 0) {
                throw Errors.einval(a + " holds no pin to unpin");
            }
            core.guard().locked(b, "unpin", () -> b.ops().unpin(a));
            a.pins--;
        } finally {
            b.unlock();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private Attachment own(Client client, DmaBufAttachment handle) {
        if (!(handle instanceof Attachment a) || !a.buffer().belongsTo(core)) {
            throw Errors.einval(handle == null ? "the attachment must not be null"
                    : "not an attachment made by this core: " + handle);
        }
        if (a.client() != client) {
            throw Errors.einval(a + " belongs to " + a.client().describe() + ", not to " + client.describe());
        }
        return a;
    }

    private static void checkLinked(Attachment a) {
        switch (a.state()) {
            case ATTACHED -> a.buffer().checkLive();
            case REVOKED -> throw a.buffer().notLive(a.buffer().state() == Buffer.State.LIVE
                    ? Buffer.State.RELEASED : a.buffer().state());
            case DETACHED -> throw Errors.einval(a + " was detached");
        }
    }

    /**
     * For cleanup calls (unmap, unpin): only a detached attachment is refused. An attachment still linked to a
     * buffer whose revoke or release is in progress is torn down as usual: the teardown needs this lock before it
     * reaches the attachment, so the exporter has not been released yet.
     */
    private static void checkNotDetached(Attachment a) {
        if (a.state() == Attachment.State.DETACHED) {
            throw Errors.einval(a + " was detached");
        }
    }

    private static void requireDynamicPair(Attachment a, String op) {
        if (!a.isDynamic()) {
            throw Errors.einval(op + " is for dynamic attachments; " + a + " is static (the core pins for it)");
        }
        if (!a.buffer().isDynamicExporter()) {
            throw Errors.einval(op + ": exporter '" + a.buffer().exporterName() + "' has no pin/unpin ops");
        }
    }

    private static int indexOf(List<Attachment.MappedTable> tables, SgTable table) {
        for (int i = 0; i < tables.size(); i++) {
            if (tables.get(i).table() == table) {
                return i;
            }
        }
        return -1;
    }

    /** Unmaps every table and drops every pin; the buffer's lock is held. */
    private void unmapAllLocked(Attachment a) {
        Buffer b = a.buffer();
        for (Attachment.MappedTable t : a.tables) {
            core.guard().quietly(b, "unmap",
                    () -> core.guard().lockedRaw(b, "unmap", () -> b.ops().unmap(a, t.table(), t.direction())));
        }
        a.tables.clear();
        a.cached = null;
        int pins = a.pins + (a.corePinned ? 1 : 0);
        for (int i = 0; i < pins; i++) {
            core.guard().quietly(b, "unpin",
                    () -> core.guard().lockedRaw(b, "unpin", () -> b.ops().unpin(a)));
        }
        a.pins = 0;
        a.corePinned = false;
    }

    private void exporterDetach(Attachment a) {
        Buffer b = a.buffer();
        if (b.implementsOp(OpsContract.Op.DETACH)) {
            core.guard().quietly(b, "detach", () -> b.ops().detach(b, a));
        }
    }
}
