package dmabuf.api;

import java.util.List;

/**
 * A scatter-gather table: the bus addresses at which a device reaches a buffer, as the kernel's {@code sg_table}
 * after {@code dma_map_sgtable}. An exporter's {@link DmaBufOps#map map} builds it for one attachment; the core
 * validates it against the buffer's size and the attached device's constraints before an importer sees it.
 * <p>
 * Tables are compared by identity where it matters: {@link DmaBufRegistry#unmapAttachment unmap} takes the very
 * object that {@link DmaBufRegistry#mapAttachment map} returned.
 *
 * @param entries the segments in buffer order, not empty
 */
public record SgTable(List<Entry> entries) {

    /**
     * One segment: {@code length} bytes at bus address {@code dmaAddress}.
     *
     * @param dmaAddress the bus address of the segment's first byte
     * @param length     the segment's length in bytes, positive
     */
    public record Entry(long dmaAddress, long length) {
        /** Validates the segment; an empty or negative one is {@link Errno#EINVAL}. */
        public Entry {
            if (length <= 0) {
                throw new DmaBufException(Errno.EINVAL, "an sg entry needs a positive length, not " + length);
            }
        }
    }

    /** Copies the list; an empty or null table is {@link Errno#EINVAL}. */
    public SgTable {
        if (entries == null || entries.isEmpty()) {
            throw new DmaBufException(Errno.EINVAL, "an sg table needs at least one entry");
        }
        entries = List.copyOf(entries);
    }

    /** A table of one contiguous segment. */
    public static SgTable contiguous(long dmaAddress, long length) {
        return new SgTable(List.of(new Entry(dmaAddress, length)));
    }

    /**
     * A table of one contiguous bus-address range, split into segments of at most {@code maxSegmentSize} bytes, as
     * {@code dma_map_sgtable} splits a range for a device's {@code max_segment_size}.
     *
     * @param dmaAddress     the bus address of the first byte
     * @param length         the length, positive
     * @param maxSegmentSize the longest segment, positive
     * @return the table
     * @since 1.1
     */
    public static SgTable split(long dmaAddress, long length, long maxSegmentSize) {
        if (length <= 0 || maxSegmentSize <= 0) {
            throw new DmaBufException(Errno.EINVAL, "split(" + length + ", " + maxSegmentSize
                    + "): length and segment size must be positive");
        }
        java.util.ArrayList<Entry> entries = new java.util.ArrayList<>();
        for (long at = 0; at < length; at += maxSegmentSize) {
            entries.add(new Entry(dmaAddress + at, Math.min(maxSegmentSize, length - at)));
        }
        return new SgTable(entries);
    }

    /** The number of segments ({@code nents}). */
    public int nents() {
        return entries.size();
    }

    /** The sum of the segments' lengths. */
    public long totalLength() {
        long total = 0;
        for (Entry e : entries) {
            total += e.length();
        }
        return total;
    }

    /** True when every segment starts where the previous one ended. */
    public boolean isContiguous() {
        for (int i = 1; i < entries.size(); i++) {
            Entry prev = entries.get(i - 1);
            if (prev.dmaAddress() + prev.length() != entries.get(i).dmaAddress()) {
                return false;
            }
        }
        return true;
    }
}
