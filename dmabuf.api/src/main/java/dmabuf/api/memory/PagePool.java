package dmabuf.api.memory;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A device's pool of pre-faulted memory, created with {@link PhysicalMemory#createPool} when the device starts and
 * closed when it stops. Thread-safe.
 */
@ProviderType
public interface PagePool extends AutoCloseable {
    /** The pool's name. */
    String name();

    /** The pool's size in bytes. */
    long capacity();

    /** Bytes not allocated. */
    long available();

    /** Scattered or contiguous. */
    Placement placement();

    /** The highest physical address any page of the pool has (at or below the spec's mask). */
    long highestAddress();

    /**
     * Allocates zeroed pages for {@code bytes}, rounded up to whole pages, charged to the pool's owner.
     *
     * @param bytes the size wanted, positive
     * @return the allocation
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EINVAL} for a size that is not positive or wraps
     *         when page-aligned; {@link dmabuf.api.Errno#ENOMEM} when the pool cannot give it (for a contiguous pool:
     *         no free run long enough) or the owner's quota would be exceeded, naming which;
     *         {@link dmabuf.api.Errno#ENODEV} once the pool is closed
     */
    PageAllocation allocate(long bytes);

    /**
     * As {@link #allocate(long)}, but charged to another bundle's quota: what a heap does for the bundle that asked
     * it for a buffer.
     *
     * @param bytes          the size wanted
     * @param chargeBundleId the bundle whose quota pays; a bundle that does not use the memory service is
     *                       {@link dmabuf.api.Errno#EINVAL}
     * @return the allocation
     */
    PageAllocation allocate(long bytes, long chargeBundleId);

    /**
     * Returns the pool's memory to the platform. Allocations still open are freed first (and reported, since an
     * exporter must release its buffers before its pool goes); their CPU views become invalid. Idempotent.
     */
    @Override
    void close();
}
