package dmabuf.core.mmap;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufMapping;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;

/** An mmap of part of a buffer; holds one buffer reference until closed. */
public final class Mapping implements DmaBufMapping {
    private final MmapService service;
    private final Client client;
    private final Buffer buffer;
    private final MemorySegment segment;
    private final long offset;
    private final int prot;
    private final AtomicBoolean mapped = new AtomicBoolean(true);

    Mapping(MmapService service, Client client, Buffer buffer, MemorySegment segment, long offset, int prot) {
        this.service = service;
        this.client = client;
        this.buffer = buffer;
        this.segment = segment;
        this.offset = offset;
        this.prot = prot;
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

    /** The bundle that mapped it. */
    public Client client() {
        return client;
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public long offset() {
        return offset;
    }

    @Override
    public long length() {
        return segment.byteSize();
    }

    @Override
    public int prot() {
        return prot;
    }

    @Override
    public boolean isMapped() {
        return mapped.get();
    }

    @Override
    public void close() {
        if (mapped.compareAndSet(true, false)) {
            service.unmapped(this);
        }
    }

    @Override
    public String toString() {
        return "mmap of [" + offset + ", +" + length() + ") of " + buffer + " by " + client;
    }
}
