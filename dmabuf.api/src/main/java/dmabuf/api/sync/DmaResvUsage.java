package dmabuf.api.sync;

/**
 * How a fence in a reservation object uses the buffer, as the kernel's {@code enum dma_resv_usage}. The order
 * matters: a query for usage U returns every fence whose usage is at or below U, so a READ query (what a writer
 * waits for) includes KERNEL and WRITE fences.
 */
public enum DmaResvUsage {
    /** Kernel work the buffer's memory depends on (moves, clears): everyone waits for it. */
    KERNEL,
    /** A writer: readers and writers wait for it. */
    WRITE,
    /** A reader: writers wait for it. */
    READ,
    /** Work nobody waits for implicitly (bookkeeping, e.g. page-table updates, a stop's drain). */
    BOOKKEEP;

    /** True if a query for this usage includes fences of usage {@code other}. */
    public boolean includes(DmaResvUsage other) {
        return other.ordinal() <= ordinal();
    }

    /** The usage a CPU or device access must wait for: a writer waits for readers too, a reader for writers. */
    public static DmaResvUsage forWrite(boolean write) {
        return write ? READ : WRITE;
    }
}
