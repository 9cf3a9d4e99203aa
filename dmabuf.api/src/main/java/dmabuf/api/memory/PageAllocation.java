package dmabuf.api.memory;

import java.lang.foreign.MemorySegment;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.Device;
import dmabuf.api.SgTable;

/**
 * Pages allocated from a pool: the storage behind one buffer. An exporter hands the views below to the core from its
 * {@code DmaBufOps}; the core re-scopes them to the buffer. Closing the allocation (from the exporter's
 * {@code release}) returns the pages to the pool. Thread-safe.
 */
@ProviderType
public interface PageAllocation extends AutoCloseable {
    /** The pool the pages came from. */
    PagePool pool();

    /** The allocation's size in bytes, a multiple of the page size. */
    long size();

    /** The runs in buffer order: byte 0 of the buffer is the first byte of the first run. */
    List<PageRun> runs();

    /** True when the allocation is one physically contiguous run. */
    boolean isContiguous();

    /**
     * Why {@code device} cannot use these pages, or null when it can: a page beyond its DMA mask, a scattered
     * allocation for a device that needs contiguous memory, more segments than it accepts. For an exporter's
     * {@code attach}, which refuses such a device.
     *
     * @param device the device
     * @return the reason, or null
     */
    String unusableBy(Device device);

    /**
     * The scatter-gather table for {@code device}: runs merged where physically adjacent and split to the device's
     * maximum segment size, covering the whole allocation.
     *
     * @param device the device
     * @return the table
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EINVAL} with {@link #unusableBy} as the message
     *         when the device cannot use these pages
     */
    SgTable sgTable(Device device);

    /**
     * The CPU's view of one page (the kernel's linear map), for {@code kmap}.
     *
     * @param index the page, from 0
     * @return exactly one page
     */
    MemorySegment page(long index);

    /**
     * A contiguous CPU view of the whole allocation, for {@code vmap} and {@code mmap}: for one run its pages
     * themselves; for scattered runs an alias mapping of them in buffer order (as the kernel's {@code vmap}), where
     * the operating system allows it. Repeated calls return the same view until {@link #close()}.
     *
     * @return {@link #size()} bytes
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#EOPNOTSUPP} when scattered pages cannot be mapped
     *         contiguously on this system (the exporter then refuses vmap, and importers fall back to kmap)
     */
    MemorySegment contiguousView();

    /**
     * Frees the pages back to the pool. Views of a single run stay valid memory until the pool closes (scoping each
     * allocation in an arena of its own would cost a ~20 us handshake per free); the core re-scopes every view it
     * hands to importers per buffer, so no importer can reach freed pages. An alias made by
     * {@link #contiguousView()} for scattered pages is unmapped here. After close, {@link #page} and
     * {@link #contiguousView} fail with {@link dmabuf.api.Errno#EFAULT}. Idempotent.
     */
    @Override
    void close();
}
