package dmabuf.core.cpu;

import java.lang.foreign.MemorySegment;

import dmabuf.core.DmaBufCore;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.buffer.OpsContract;
import dmabuf.core.client.Client;
import dmabuf.core.client.Holding;

/**
 * Refcounted {@code vmap}: under the buffer's lock, the first vmap of all bundles reaches the exporter and the last
 * vunmap undoes it; in between every vmap returns the same view. A failing exporter vmap leaves no state. Each bundle
 * may only undo vmaps it took.
 */
public final class VmapService {
    private final DmaBufCore core;

    /** @param core the core */
    public VmapService(DmaBufCore core) {
        this.core = core;
    }

    /** {@code dma_buf_vmap}. */
    public MemorySegment vmap(Client client, Buffer b) {
        if (!b.implementsOp(OpsContract.Op.VMAP)) {
            throw Errors.einval("exporter '" + b.exporterName() + "' of " + b + " has no vmap; use kmap or mmap");
        }
        b.lock(core.config().lockTimeoutMillis());
        try {
            b.checkLive();
            long count = b.vmapCount();
            if (count > 0) {
                b.setVmap(count + 1, b.vmapExporterSegment(), b.vmapView());
            } else {
                MemorySegment mapped = core.guard().lockedReturning(b, "vmap", () -> b.ops().vmap(b));
                MemorySegment view;
                try {
                    view = b.scope(mapped, b.size(), "vmap");
                } catch (RuntimeException e) {
                    if (mapped != null) {
                        core.guard().quietly(b, "vunmap",
                                () -> core.guard().lockedRaw(b, "vunmap", () -> b.ops().vunmap(b, mapped)));
                    }
                    throw e;
                }
                b.setVmap(1, mapped, view);
            }
            client.holding(b).addVmap();
            return b.vmapView();
        } finally {
            b.unlock();
        }
    }

    /** {@code dma_buf_vunmap}. */
    public void vunmap(Client client, Buffer b, MemorySegment map) {
        if (map == null) {
            throw Errors.einval("vunmap needs the segment vmap returned, not null");
        }
        Holding h = client.existingHolding(b);
        b.lock(core.config().lockTimeoutMillis());
        try {
            if (h == null || h.vmaps() == 0) {
                throw Errors.einval(client.describe() + " holds no vmap of " + b + " (an extra vunmap?)");
            }
            if (b.state() != Buffer.State.LIVE) {
                h.removeVmap(); // torn down already by the revoke
                return;
            }
            MemorySegment view = b.vmapView();
            // Same address and size is not enough: a stale view of an earlier buffer on recycled storage has both;
            // only a segment of this buffer's view scope is what vmap returned.
            if (view == null || map.address() != view.address() || map.byteSize() != view.byteSize()
                    || !map.scope().equals(view.scope())) {
                throw Errors.einval("the segment given to vunmap is not the vmap of " + b);
            }
            h.removeVmap();
            undoOneLocked(b);
        } finally {
            b.unlock();
        }
    }

    /** Undoes {@code count} vmaps of a bundle that went away. */
    public void reclaim(Buffer b, long count) {
        b.lockForTeardown(core.config().lockTimeoutMillis());
        try {
            for (long i = 0; i < count && b.state() == Buffer.State.LIVE && b.vmapCount() > 0; i++) {
                undoOneLocked(b);
            }
        } finally {
            b.unlock();
        }
    }

    private void undoOneLocked(Buffer b) {
        long count = b.vmapCount() - 1;
        MemorySegment mapped = b.vmapExporterSegment();
        if (count > 0) {
            b.setVmap(count, mapped, b.vmapView());
            return;
        }
        b.setVmap(0, null, null);
        core.guard().locked(b, "vunmap", () -> b.ops().vunmap(b, mapped));
    }
}
