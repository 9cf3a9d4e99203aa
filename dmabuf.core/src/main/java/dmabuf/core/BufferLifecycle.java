package dmabuf.core;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.core.attach.Attachment;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.buffer.OpsContract;
import dmabuf.core.client.Client;
import dmabuf.core.client.Holding;
import dmabuf.core.file.OpenFile;
import dmabuf.core.leak.TrackedDmaBuf;

/**
 * A buffer's life: export (the contract checked at the door), references and fds, revocation, and the release that
 * runs exactly once.
 * <p>
 * DOC: release. The last reference (object reference, fd or mmap) going away finishes the buffer: whatever is still
 * attached is detached (and reported, since an importer should hold a reference while attached), a vmap still held
 * is undone, every CPU view is invalidated, and then the exporter's release runs. A revoke does the same while
 * references remain, so the exporter's release runs at the revoke and never again.
 */
public final class BufferLifecycle {
    private final DmaBufCore core;

    BufferLifecycle(DmaBufCore core) {
        this.core = core;
    }

    /** The core's buffer behind a DmaBuf object, or EINVAL for null, foreign or stale objects. */
    public Buffer resolve(DmaBuf dmaBuf) {
        if (dmaBuf instanceof Buffer b && b.belongsTo(core)) {
            return b;
        }
        if (dmaBuf instanceof TrackedDmaBuf handle) {
            return resolve(handle.buffer());
        }
        if (dmaBuf == null) {
            throw Errors.einval("the DmaBuf must not be null");
        }
        if (dmaBuf instanceof Buffer b) {
            throw Errors.error(Errno.ENODEV, b + " belongs to a dma-buf core that has stopped; it is gone");
        }
        throw Errors.einval(dmaBuf.getClass().getName() + " is not a DmaBuf of this core: only buffers returned by "
                + "the registry can be used");
    }

    /** {@code dma_buf_export}. */
    public Buffer export(Client client, ExportInfo info) {
        if (info == null) {
            throw Errors.einval("export needs an ExportInfo, not null");
        }
        Set<OpsContract.Op> implemented = OpsContract.validate(info.ops());
        if (info.size() <= 0) {
            throw Errors.einval("export size must be positive, not " + info.size() + ": a buffer's size is fixed at "
                    + "export for its whole life");
        }
        int flags = info.flags();
        if ((flags & ~DmaBufUapi.O_ACCMODE) != 0 || (flags & DmaBufUapi.O_ACCMODE) == DmaBufUapi.O_ACCMODE) {
            throw Errors.einval(String.format("export flags 0x%x are not an access mode (O_RDONLY, O_WRONLY or O_RDWR)",
                    flags));
        }
        String exporterName = client.symbolicName();
        long serviceId = -1;
        if (info.exporter() != null) {
            serviceId = core.drivers().exporterServiceOf(client.bundleId(), info.exporter());
            if (serviceId < 0) {
                throw Errors.einval("exporter name '" + info.exporter() + "' is not a DmaBufExporter service that "
                        + client.describe() + " registered; register one with property dmabuf.exporter.name="
                        + info.exporter() + ", or leave the name out to export as " + client.symbolicName());
            }
            exporterName = info.exporter();
        }
        String name = info.name() == null ? null : checkName(info.name());
        Buffer b = core.buffers().create(info.size(), exporterName, serviceId, client, info.ops(), implemented, flags,
                name, core.config().leakReportLevel().recordsSites());
        client.holding(b).addRef();
        core.changed();
        return b;
    }

    /** Validates a SET_NAME argument: ends at the first NUL, at most 31 bytes of UTF-8. */
    public static String checkName(String requested) {
        if (requested == null) {
            throw Errors.error(Errno.EFAULT, "SET_NAME needs a name, not null");
        }
        int nul = requested.indexOf('\0');
        String name = nul >= 0 ? requested.substring(0, nul) : requested;
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes >= DmaBufUapi.DMA_BUF_NAME_LEN) {
            throw Errors.einval("buffer name '" + name + "' is " + bytes + " bytes of UTF-8; at most "
                    + (DmaBufUapi.DMA_BUF_NAME_LEN - 1) + " fit (DMA_BUF_NAME_LEN includes the NUL)");
        }
        return name;
    }

    /** {@code get_dma_buf} on behalf of a client. */
    public void get(Client client, Buffer b) {
        b.getRef();
        client.holding(b).addRef();
    }

    /** {@code dma_buf_put} on behalf of a client. */
    public void put(Client client, Buffer b) {
        Holding h = client.existingHolding(b);
        if (h == null || !h.removeRef()) {
            throw Errors.einval(client.describe() + " holds no reference to " + b + " (a second put of the same "
                    + "reference?); nothing was changed");
        }
        dropRef(b);
    }

    /** Drops one reference of any kind; the last one finishes the buffer. */
    public void dropRef(Buffer b) {
        if (b.putRef()) {
            finishRelease(b);
        }
    }

    /** {@code dma_buf_fd}: moves one of the client's references into a new fd. */
    public int installFd(Client client, Buffer b, int flags) {
        if ((flags & ~(DmaBufUapi.O_ACCMODE | DmaBufUapi.O_CLOEXEC)) != 0
                || (flags & DmaBufUapi.O_ACCMODE) == DmaBufUapi.O_ACCMODE) {
            throw Errors.einval(String.format("fd flags 0x%x: only O_CLOEXEC and an access mode (O_RDONLY, "
                    + "O_WRONLY, O_RDWR) are allowed", flags));
        }
        b.checkLive();
        OpenFile file = new OpenFile(b, flags);
        OpenFile exported = new OpenFile(b, b.exportFlags());
        if ((file.readable() && !exported.readable()) || (file.writable() && !exported.writable())) {
            throw Errors.error(Errno.EACCES, "fd flags ask for more access than " + b + " was exported with (mode "
                    + (b.exportFlags() & DmaBufUapi.O_ACCMODE) + ")");
        }
        Holding h = client.holding(b);
        synchronized (h) {
            if (h.refs() == 0) {
                throw Errors.einval(client.describe() + " holds no reference to " + b + " to move into an fd; take "
                        + "one with get(buf) first");
            }
            int fd = client.files().install(file, core.config().fdLimit());
            h.removeRef();
            core.changed();
            return fd;
        }
    }

    /** {@code dma_buf_get}: a new object reference to the buffer behind an fd. */
    public Buffer getByFd(Client client, int fd) {
        Buffer b = client.files().get(fd).buffer();
        get(client, b);
        return b;
    }

    /** {@code dup}: a new fd with its own reference and without close-on-exec. */
    public int dup(Client client, int fd) {
        OpenFile f = client.files().get(fd);
        Buffer b = f.buffer();
        b.getRef();
        try {
            int newFd = client.files().install(new OpenFile(b, f.flags() & DmaBufUapi.O_ACCMODE),
                    core.config().fdLimit());
            core.changed();
            return newFd;
        } catch (RuntimeException e) {
            dropRef(b);
            throw e;
        }
    }

    /** {@code close}: the fd's reference goes. */
    public void close(Client client, int fd) {
        OpenFile f = client.files().remove(fd);
        if (!f.isSyncFile()) { // a sync file holds a fence, no buffer reference
            dropRef(f.buffer());
        }
        core.changed();
    }

    /**
     * {@code dma_buf_move_notify}: tells each dynamic importer its mappings are about to become invalid. Called
     * without the buffer's lock, so importers may unmap and detach from the callback.
     */
    public void notifyImporters(Buffer b) {
        for (Attachment a : b.attachmentsSnapshot(core.config().lockTimeoutMillis())) {
            if (a.isDynamic() && a.isAttached()) {
                core.guard().quietly("importer " + a.client().describe(), "invalidateMappings",
                        () -> a.importerOps().invalidateMappings(a));
            }
        }
    }

    /**
     * Revokes a live buffer: importers are told, later operations fail with ENODEV, exporter state is torn down and
     * the exporter's release runs. References stay counted until they are put. A buffer already revoked or released
     * is left alone.
     */
    public void revoke(Buffer b, String reason) {
        if (b.state() != Buffer.State.LIVE) {
            return;
        }
        try {
            notifyImporters(b);
        } catch (dmabuf.api.DmaBufException e) {
            // a locked exporter op outlasting the lock timeout must not keep a buffer of a departed exporter live:
            // revoke anyway; the teardown detaches what is attached once the op in flight has drained
            core.log().warn("could not tell the importers of " + b + " before revoking it (" + e.getMessage()
                    + "); revoking anyway");
        }
        if (!b.transition(Buffer.State.REVOKED)) {
            return;
        }
        core.log().info("revoking " + b + ": " + reason);
        drain(b);
        teardown(b, false);
        core.changed();
    }

    /** The last reference went: tear down what is left, release, and drop the buffer from the list. */
    private void finishRelease(Buffer b) {
        b.transition(Buffer.State.RELEASED);
        drain(b);
        teardown(b, true);
        forget(b);
    }

    /** At core shutdown: drop a buffer whose references were never given back. */
    void forceRelease(Buffer b) {
        b.transition(Buffer.State.RELEASED);
        teardown(b, true);
        forget(b);
    }

    private void forget(Buffer b) {
        core.leakDetector().forget(b);
        core.buffers().remove(b);
        for (Client c : b.holders()) {
            c.forget(b);
        }
        b.holders().clear();
        core.changed();
    }

    /** Waits, bounded, for exporter calls that entered before the state changed. */
    private void drain(Buffer b) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(core.config().drainTimeoutMillis());
        while (b.inflight() > 0) {
            if (System.nanoTime() - deadline > 0) {
                core.log().warn("gave up waiting for " + b.inflight() + " exporter call(s) in flight on " + b
                        + " after " + core.config().drainTimeoutMillis() + " ms; tearing down anyway");
                return;
            }
            LockSupport.parkNanos(50_000);
        }
    }

    /**
     * Undoes everything the exporter still has set up for the buffer, invalidates its CPU views and runs its release,
     * once. The buffer is no longer LIVE, so no new state can appear while this runs.
     */
    private void teardown(Buffer b, boolean atLastPut) {
        List<Attachment> linked;
        long vmapCount;
        java.lang.foreign.MemorySegment vmapSegment;
        boolean locked = tryLock(b);
        try {
            linked = List.copyOf(b.attachmentsLocked());
            b.attachmentsLocked().clear();
            vmapCount = b.vmapCount();
            vmapSegment = b.vmapExporterSegment();
            b.setVmap(0, null, null);
        } finally {
            if (locked) {
                b.unlock();
            }
        }
        for (Attachment a : linked) {
            if (atLastPut) {
                core.log().warn(b + " lost its last reference while " + a + " was still attached; it was detached. "
                        + "An importer should hold a reference for as long as it is attached.");
            }
            core.attachments().forceDetach(a);
        }
        if (vmapSegment != null) {
            if (atLastPut) {
                core.log().warn(b + " lost its last reference with " + vmapCount + " vmap(s) held; undone");
            }
            core.guard().quietly(b, "vunmap", () -> b.ops().vunmap(b, vmapSegment));
        }
        closeViews(b);
        drain(b); // cleanup calls of importers (a detach that unlinked before the teardown) finish before release
        if (b.claimRelease()) {
            core.guard().quietly(b, "release", () -> b.ops().release(b));
            core.buffers().storageReleased(b);
        }
    }

    private boolean tryLock(Buffer b) {
        try {
            b.lock(core.config().lockTimeoutMillis());
            return true;
        } catch (dmabuf.api.DmaBufException e) {
            core.log().error("tearing down " + b + " without its lock: " + e.getMessage(), e);
            return false;
        }
    }

    /** Closing a shared arena fails while a thread is inside a native call using one of its segments; retry briefly. */
    private void closeViews(Buffer b) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(core.config().drainTimeoutMillis());
        while (true) {
            try {
                b.closeViews();
                return;
            } catch (IllegalStateException busy) {
                if (System.nanoTime() - deadline > 0) {
                    core.log().error("could not invalidate the CPU views of " + b + ": " + busy.getMessage(), busy);
                    return;
                }
                LockSupport.parkNanos(100_000);
            }
        }
    }
}
