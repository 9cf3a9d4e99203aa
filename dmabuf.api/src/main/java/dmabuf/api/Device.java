package dmabuf.api;

/**
 * An importing device and its DMA constraints, as the kernel's {@code struct device} and its DMA parameters.
 * <p>
 * An exporter's {@link DmaBufOps#attach attach} may refuse a device whose constraints its backing storage cannot
 * meet; the core checks every table an exporter maps for the device against these constraints and refuses one that
 * violates them, so an importer never receives a table it cannot use.
 *
 * @param name            a name for people and for the debug listing, not blank
 * @param dmaMask         the highest bus address the device can reach, e.g. {@code 0xFFFF_FFFFL} for a 32-bit device;
 *                        {@code -1L} (all ones) for no limit
 * @param maxSegmentSize  the longest scatter-gather segment the device accepts, in bytes, at least one page
 * @param maxSegmentCount the most segments the device accepts in one table, at least 1
 * @param contiguous      true when the device needs the whole buffer in one segment (no IOMMU, scanout engines)
 * @param coherent        true when the device's accesses are cache-coherent with the CPU (no cache maintenance)
 */
public record Device(String name, long dmaMask, long maxSegmentSize, int maxSegmentCount, boolean contiguous,
        boolean coherent) {

    /** The mask of a device that reaches every address. */
    public static final long DMA_MASK_64 = -1L;
    /** The mask of a device limited to the low 4 GiB. */
    public static final long DMA_MASK_32 = 0xFFFF_FFFFL;

    /** Validates the constraints; an invalid one is {@link Errno#EINVAL}. */
    public Device {
        if (name == null || name.isBlank()) {
            throw new DmaBufException(Errno.EINVAL, "a Device needs a name that is not blank");
        }
        if (dmaMask == 0) {
            throw new DmaBufException(Errno.EINVAL, "device '" + name + "': dmaMask 0 reaches no memory");
        }
        if (maxSegmentSize < DmaBufUapi.PAGE_SIZE) {
            throw new DmaBufException(Errno.EINVAL, "device '" + name + "': maxSegmentSize " + maxSegmentSize
                    + " is below one page (" + DmaBufUapi.PAGE_SIZE + ")");
        }
        if (maxSegmentCount < 1) {
            throw new DmaBufException(Errno.EINVAL,
                    "device '" + name + "': maxSegmentCount " + maxSegmentCount + " must be at least 1");
        }
    }

    /** A coherent device with no DMA limits: any address, any segment size and count, scattered memory is fine. */
    public static Device of(String name) {
        return new Device(name, DMA_MASK_64, Long.MAX_VALUE, Integer.MAX_VALUE, false, true);
    }

    /** This device with another DMA mask. */
    public Device withDmaMask(long mask) {
        return new Device(name, mask, maxSegmentSize, maxSegmentCount, contiguous, coherent);
    }

    /** This device with other segment limits. */
    public Device withSegmentLimits(long maxSize, int maxCount) {
        return new Device(name, dmaMask, maxSize, maxCount, contiguous, coherent);
    }

    /** This device needing (or not) the whole buffer in one segment. */
    public Device withContiguous(boolean needsContiguous) {
        return new Device(name, dmaMask, maxSegmentSize, maxSegmentCount, needsContiguous, coherent);
    }

    /** This device with (or without) cache-coherent access. */
    public Device withCoherent(boolean isCoherent) {
        return new Device(name, dmaMask, maxSegmentSize, maxSegmentCount, contiguous, isCoherent);
    }

    /** True when the device can reach every byte of {@code [address, address + length)}. */
    public boolean canReach(long address, long length) {
        long last = address + length - 1;
        return length > 0 && Long.compareUnsigned(last, address) >= 0
                && Long.compareUnsigned(last, dmaMask) <= 0;
    }
}
