package dmabuf.core.leak;

import java.util.Optional;

import dmabuf.api.DmaBuf;
import dmabuf.core.buffer.Buffer;

/**
 * The handle a bundle gets for a buffer the {@link LeakDetector} tracks: it stands for the buffer in every call
 * (the core unwraps it) and is what the detector watches for becoming unreachable. It is equal to its buffer, so
 * an exporter that keys its state by the handle export returned still finds it when an op hands it the buffer.
 */
public final class TrackedDmaBuf implements DmaBuf {
    private final Buffer buffer;

    TrackedDmaBuf(Buffer buffer) {
        this.buffer = buffer;
    }

    /** The core's buffer behind the handle. */
    public Buffer buffer() {
        return buffer;
    }

    @Override
    public long id() {
        return buffer.id();
    }

    @Override
    public long size() {
        return buffer.size();
    }

    @Override
    public String exporterName() {
        return buffer.exporterName();
    }

    @Override
    public Optional<String> name() {
        return buffer.name();
    }

    @Override
    public dmabuf.api.sync.DmaResv resv() {
        return buffer.resv();
    }

    @Override
    public boolean equals(Object o) {
        return o == this || o == buffer || (o instanceof TrackedDmaBuf t && t.buffer == buffer);
    }

    @Override
    public int hashCode() {
        return buffer.hashCode();
    }

    @Override
    public String toString() {
        return buffer.toString();
    }
}
