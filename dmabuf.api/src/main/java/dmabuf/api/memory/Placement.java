package dmabuf.api.memory;

/** How a pool lays out an allocation in physical memory. */
public enum Placement {
    /** System pages: an allocation is one or more runs of pages, not necessarily adjacent. */
    SCATTERED,
    /** A reserved, CMA-like region: an allocation is exactly one run of physically contiguous pages. */
    CONTIGUOUS
}
