package dmabuf.memory.zone;

import java.util.List;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.memory.Sizes;

/**
 * The simulated physical address space pools are placed in, with the two zones a 64-bit kernel has for DMA:
 * <ul>
 * <li>{@code ZONE_DMA32} = {@code [0x1000_0000, 0x1_0000_0000)}: below 4 GiB, for devices with 32-bit masks (the
 * first 256 MiB are left out, as firmware and the kernel image would occupy them);</li>
 * <li>{@code ZONE_NORMAL} = {@code [0x1_0000_0000, 2^48)}: everything above.</li>
 * </ul>
 * A pool goes to ZONE_NORMAL if a free range there lies wholly at or below its mask, else to ZONE_DMA32 under the
 * same condition, else it cannot be placed ({@link Errno#ENOMEM} naming the mask and the zones). Within a zone the
 * first (lowest) free range that fits is used; closing a pool returns its range. Thread-safe.
 */
public final class AddressSpace {
    /** The first address of ZONE_DMA32. */
    public static final long DMA32_START = 0x1000_0000L;
    /** The first address of ZONE_NORMAL, 4 GiB. */
    public static final long NORMAL_START = 0x1_0000_0000L;
    /** The address just past ZONE_NORMAL: a 48-bit physical address space. */
    public static final long NORMAL_END = 1L << 48;

    private final Zone dma32 = new Zone("ZONE_DMA32", DMA32_START, NORMAL_START);
    private final Zone normal = new Zone("ZONE_NORMAL", NORMAL_START, NORMAL_END);

    /**
     * A placed range.
     *
     * @param zone  where it lies
     * @param start its first physical address, page-aligned
     * @param size  its size in bytes
     */
    public record Range(Zone zone, long start, long size) {
        /** The address just past the range. */
        public long end() {
            return start + size;
        }
    }

    /**
     * Places {@code size} bytes at or below {@code mask}.
     *
     * @param what a name for the message, e.g. {@code pool 'gpu0'}
     * @param size the bytes, a positive multiple of the page size
     * @param mask the highest address any byte may have (unsigned; -1 for anywhere)
     * @return the range
     * @throws DmaBufException {@link Errno#ENOMEM} when no zone has room below the mask
     */
    public synchronized Range place(String what, long size, long mask) {
        for (Zone z : List.of(normal, dma32)) {
            long s = z.find(size, mask);
            if (s >= 0) {
                z.take(s, size);
                return new Range(z, s, size);
            }
        }
        StringBuilder why = new StringBuilder();
        why.append(what).append(" (").append(Sizes.bytes(size)).append(") cannot be placed at or below DMA mask ")
                .append(Sizes.hex(mask)).append(": ");
        for (Zone z : List.of(normal, dma32)) {
            if (Long.compareUnsigned(z.start(), mask) > 0) {
                why.append(z).append(" lies above the mask; ");
            } else {
                why.append(z).append(" has no free range that large below it (largest: ")
                        .append(Sizes.bytes(z.largestFreeBelow(mask))).append("); ");
            }
        }
        why.setLength(why.length() - 2);
        if (Long.compareUnsigned(mask, DMA32_START) < 0) {
            why.append(". No zone starts below ").append(Sizes.hex(DMA32_START))
                    .append(": a device with such a mask needs a bounce buffer or an IOMMU");
        } else {
            why.append(". Close pools in that zone, use a smaller pool, or a device with a wider mask");
        }
        throw new DmaBufException(Errno.ENOMEM, why.toString());
    }

    /** Returns a range that {@link #place} gave. */
    public synchronized void free(Range range) {
        range.zone().give(range.start(), range.size());
    }

    /** ZONE_DMA32. */
    public Zone dma32() {
        return dma32;
    }

    /** ZONE_NORMAL. */
    public Zone normal() {
        return normal;
    }

    /** Free bytes of a zone, read under the lock. */
    public synchronized long freeBytes(Zone zone) {
        return zone.freeBytes();
    }

    /** Free ranges of a zone, read under the lock. */
    public synchronized int freeRanges(Zone zone) {
        return zone.freeRanges();
    }
}
