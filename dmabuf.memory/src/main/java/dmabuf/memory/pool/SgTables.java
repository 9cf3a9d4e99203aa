package dmabuf.memory.pool;

import java.util.ArrayList;
import java.util.List;

import dmabuf.api.Device;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.memory.PageRun;
import dmabuf.memory.Sizes;

/**
 * Scatter-gather tables from page runs, as {@code sg_alloc_table_from_pages} plus {@code dma_map_sgtable} without an
 * IOMMU: runs that are physically adjacent in buffer order merge into one segment; a segment longer than the
 * device's maximum segment size (rounded down to whole pages, as the kernel does) is split. Pure functions.
 */
public final class SgTables {
    private SgTables() {
    }

    /** The runs merged where one ends where the next (in buffer order) begins: {@code {address, length}} pairs. */
    public static List<long[]> merge(List<PageRun> runs) {
        List<long[]> merged = new ArrayList<>();
        for (PageRun r : runs) {
            long[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && last[0] + last[1] == r.physAddress()) {
                last[1] += r.bytes();
            } else {
                merged.add(new long[] {r.physAddress(), r.bytes()});
            }
        }
        return merged;
    }

    /** The segment size limit actually used: the device's, rounded down to whole pages. */
    public static long segmentLimit(Device device) {
        return Math.max(DmaBufUapi.PAGE_SIZE, device.maxSegmentSize() & -(long) DmaBufUapi.PAGE_SIZE);
    }

    /** Why {@code device} cannot use these runs, or null when it can. */
    public static String unusable(List<PageRun> runs, Device device) {
        List<long[]> merged = merge(runs);
        for (long[] seg : merged) {
            if (!device.canReach(seg[0], seg[1])) {
                long first = Long.compareUnsigned(seg[0], device.dmaMask()) > 0 ? seg[0]
                        : (device.dmaMask() + 1) & -(long) DmaBufUapi.PAGE_SIZE;
                return "the page at physical address " + Sizes.hex(first) + " (in segment "
                        + Sizes.range(seg[0], seg[0] + seg[1]) + ") lies beyond the DMA mask "
                        + Sizes.hex(device.dmaMask()) + " of device '" + device.name() + "'"
                        + ": allocate from a pool created with that mask (PoolSpec.withDmaMask)";
            }
        }
        if (device.contiguous() && merged.size() > 1) {
            return "device '" + device.name() + "' needs physically contiguous memory, but the allocation is "
                    + merged.size() + " separate runs: allocate from a CONTIGUOUS pool";
        }
        long limit = segmentLimit(device);
        long count = 0;
        for (long[] seg : merged) {
            count += seg[1] / limit + (seg[1] % limit != 0 ? 1 : 0);
        }
        if (count > device.maxSegmentCount()) {
            return "the allocation needs " + count + " segments (" + merged.size()
                    + " physically contiguous runs split to at most " + Sizes.bytes(limit) + " each), device '"
                    + device.name() + "' accepts at most " + device.maxSegmentCount()
                    + ": use a pool with a larger chunk size or a CONTIGUOUS pool";
        }
        return null;
    }

    /**
     * The table for {@code device}.
     *
     * @throws DmaBufException {@link Errno#EINVAL} with {@link #unusable}'s reason
     */
    public static SgTable build(List<PageRun> runs, Device device) {
        String why = unusable(runs, device);
        if (why != null) {
            throw new DmaBufException(Errno.EINVAL, why);
        }
        long limit = segmentLimit(device);
        List<SgTable.Entry> entries = new ArrayList<>();
        for (long[] seg : merge(runs)) {
            for (long off = 0; off < seg[1]; off += limit) {
                entries.add(new SgTable.Entry(seg[0] + off, Math.min(limit, seg[1] - off)));
            }
        }
        return new SgTable(entries);
    }
}
