package dmabuf.api.memory;

import dmabuf.api.DmaBufUapi;

/**
 * Physically contiguous pages of an allocation.
 *
 * @param physAddress the physical (bus) address of the first page, page-aligned
 * @param pages       how many pages, at least one
 */
public record PageRun(long physAddress, long pages) {
    /** The run's length in bytes. */
    public long bytes() {
        return pages << DmaBufUapi.PAGE_SHIFT;
    }

    /** The physical address just past the run. */
    public long end() {
        return physAddress + bytes();
    }
}
