package dmabuf.memory.zone;

import java.util.Map;
import java.util.TreeMap;

import dmabuf.memory.Sizes;

/**
 * One zone of the simulated physical address space, with its map of free ranges (start to end, coalesced). Ranges
 * are handed out first-fit from the lowest address. Not thread-safe: {@link AddressSpace} guards it.
 */
public final class Zone {
    private final String name;
    private final long start;
    private final long end;
    private final TreeMap<Long, Long> free = new TreeMap<>();

    Zone(String name, long start, long end) {
        this.name = name;
        this.start = start;
        this.end = end;
        free.put(start, end);
    }

    /** The kernel's name for the zone, e.g. {@code ZONE_DMA32}. */
    public String name() {
        return name;
    }

    /** The zone's first physical address. */
    public long start() {
        return start;
    }

    /** The physical address just past the zone. */
    public long end() {
        return end;
    }

    /** The zone as a range, for messages. */
    @Override
    public String toString() {
        return name + " " + Sizes.range(start, end);
    }

    /**
     * The first free range of {@code size} bytes whose last byte is at or below {@code highest} (unsigned), or -1.
     */
    long find(long size, long highest) {
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            long s = e.getKey();
            long last = s + size - 1;
            if (Long.compareUnsigned(last, highest) > 0) {
                return -1; // ranges are in ascending order: none further down the map fits under the mask either
            }
            if (size <= e.getValue() - s) {
                return s;
            }
        }
        return -1;
    }

    /** The longest free stretch lying entirely at or below {@code highest}. */
    long largestFreeBelow(long highest) {
        long best = 0;
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            long s = e.getKey();
            if (Long.compareUnsigned(s, highest) > 0) {
                break;
            }
            long e2 = Long.compareUnsigned(e.getValue() - 1, highest) > 0 ? highest + 1 : e.getValue();
            best = Math.max(best, e2 - s);
        }
        return best;
    }

    /** Takes {@code [s, s + size)}, which {@link #find} returned. */
    void take(long s, long size) {
        Long rangeEnd = free.remove(s);
        if (rangeEnd == null || size > rangeEnd - s) {
            throw new IllegalStateException("not a free range start: " + Sizes.hex(s));
        }
        if (s + size < rangeEnd) {
            free.put(s + size, rangeEnd);
        }
    }

    /** Returns {@code [s, s + size)} to the free map, coalescing with its neighbours. */
    void give(long s, long size) {
        long e = s + size;
        Map.Entry<Long, Long> below = free.floorEntry(s);
        if (below != null && below.getValue() > s) {
            throw new IllegalStateException("range " + Sizes.range(s, e) + " is already free in " + name);
        }
        Map.Entry<Long, Long> above = free.ceilingEntry(s);
        if (above != null && above.getKey() < e) {
            throw new IllegalStateException("range " + Sizes.range(s, e) + " is already free in " + name);
        }
        long newStart = s;
        long newEnd = e;
        if (below != null && below.getValue() == s) {
            newStart = below.getKey();
            free.remove(below.getKey());
        }
        if (above != null && above.getKey() == e) {
            newEnd = above.getValue();
            free.remove(above.getKey());
        }
        free.put(newStart, newEnd);
    }

    /** How many separate free ranges the zone has (1 when nothing is placed). */
    public int freeRanges() {
        return free.size();
    }

    /** The bytes not placed. */
    public long freeBytes() {
        long sum = 0;
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            sum += e.getValue() - e.getKey();
        }
        return sum;
    }
}
