package dmabuf.core.buffer;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dmabuf.api.DmaBufOps;
import dmabuf.core.client.Client;

/**
 * Every buffer not yet released (the kernel's global dma-buf list behind {@code bufinfo}), the id generator, and
 * the global accounting: live and peak bytes, buffers exported and released.
 */
public final class BufferTable {
    private final Object core;
    private final AtomicLong nextId = new AtomicLong();
    private final Map<Long, Buffer> buffers = new ConcurrentHashMap<>();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong peakBytes = new AtomicLong();
    private final AtomicLong exported = new AtomicLong();
    private final AtomicLong released = new AtomicLong();

    /** @param core the core instance buffers are stamped with, so buffers of another instance are recognised */
    public BufferTable(Object core) {
        this.core = core;
    }

    /** Creates and lists a buffer with a fresh id; its storage counts as live until {@link #storageReleased}. */
    public Buffer create(long size, String exporterName, long exporterServiceId, Client owner, DmaBufOps ops,
            Set<OpsContract.Op> implemented, int flags, String name, boolean captureSite) {
        long id = nextId.incrementAndGet();
        Buffer b = new Buffer(core, id, size, exporterName, exporterServiceId, owner, ops, implemented, flags, name,
                captureSite);
        buffers.put(id, b);
        exported.incrementAndGet();
        long live = liveBytes.addAndGet(size);
        peakBytes.accumulateAndGet(live, Math::max);
        return b;
    }

    /** The exporter's release ran: the storage no longer counts. */
    public void storageReleased(Buffer b) {
        liveBytes.addAndGet(-b.size());
        released.incrementAndGet();
    }

    /** The last reference is gone: the buffer leaves the list. */
    public void remove(Buffer b) {
        buffers.remove(b.id(), b);
    }

    /** The buffers not yet released. */
    public Collection<Buffer> all() {
        return buffers.values();
    }

    /** Bytes of storage not yet released. */
    public long liveBytes() {
        return liveBytes.get();
    }

    /** The most bytes ever live at once. */
    public long peakBytes() {
        return peakBytes.get();
    }

    /** Buffers exported since start. */
    public long exportedCount() {
        return exported.get();
    }

    /** Buffers whose release ran since start. */
    public long releasedCount() {
        return released.get();
    }
}
