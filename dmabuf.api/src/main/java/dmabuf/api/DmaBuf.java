package dmabuf.api;

import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A shared buffer, as the kernel's {@code struct dma_buf}. Only the core implements it; drivers receive it from
 * {@link DmaBufRegistry#export export} or {@link DmaBufRegistry#get(int) get} and pass it between bundles as an
 * object.
 * <p>
 * Holding the object is not holding a reference: a bundle that keeps a buffer takes its own reference
 * ({@link DmaBufRegistry#get(DmaBuf)}) or installs its own fd, and gives it back with {@link DmaBufRegistry#put put}
 * or {@link DmaBufRegistry#close close}. The accessors stay valid after the buffer is released.
 */
@ProviderType
public interface DmaBuf {
    /** A unique id, never reused while the core runs (the inode number of the kernel's listing). */
    long id();

    /** The size in bytes, fixed at export and invariant for the buffer's whole life. */
    long size();

    /** The name of the exporter: its registered exporter service, or by default its bundle's symbolic name. */
    String exporterName();

    /** The name a user set with SET_NAME, if any. */
    Optional<String> name();

    /**
     * The buffer's reservation object: the fences of the work that uses it (see {@link dmabuf.api.sync}). It stays
     * usable after the buffer is released, so waiters never fail because a buffer went away.
     */
    dmabuf.api.sync.DmaResv resv();

    /** The number of pages the buffer spans: {@code ceil(size / PAGE_SIZE)}. */
    default long pageCount() {
        return (size() + DmaBufUapi.PAGE_SIZE - 1) >>> DmaBufUapi.PAGE_SHIFT;
    }
}
