package dmabuf.api.memory;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The platform's physical memory, as a bundle-scoped service: each bundle's pools are charged to it and closed (and
 * reported) if the bundle goes away without closing them.
 */
@ProviderType
public interface PhysicalMemory {
    /**
     * Reserves memory for a device's pool now: allocated, pre-faulted (the first touch of a page costs about 4 us,
     * five times a copy of it, so it must not happen on the frame path) and placed at physical addresses below the
     * spec's mask.
     *
     * @param spec what the device needs
     * @return the pool, owned by the calling bundle
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EINVAL} for a duplicate pool name;
     *         {@link dmabuf.api.Errno#ENOMEM} when the global limit or the zone below the mask cannot take it,
     *         naming which; {@link dmabuf.api.Errno#ENODEV} after the calling bundle gave the service back
     */
    PagePool createPool(PoolSpec spec);

    /**
     * A device's DMA: the memory behind {@code [dmaAddress, dmaAddress + length)}, which must lie in allocated pages
     * of one pool. A view, never a copy. Like a real device, a caller must stop using it when it unmaps the table it
     * came from; the memory stays valid until the pool closes.
     *
     * @param dmaAddress a bus address from an {@link dmabuf.api.SgTable}
     * @param length     the bytes wanted, positive
     * @return the memory
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EFAULT} when any byte is not allocated memory
     */
    MemorySegment resolve(long dmaAddress, long length);

    /** What is reserved, allocated and at its peak: globally, per pool and per bundle. */
    MemoryStatsDTO stats();
}
