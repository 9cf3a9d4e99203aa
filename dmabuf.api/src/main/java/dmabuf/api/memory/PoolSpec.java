package dmabuf.api.memory;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;

/**
 * What a device asks of the platform when it starts: a pool of memory it then allocates buffers from.
 *
 * @param name      a name for people and the accounting (e.g. {@code "gpu0-vram"}), not blank, unique per platform
 * @param size      the pool's size in bytes, a positive multiple of {@link DmaBufUapi#PAGE_SIZE}
 * @param placement scattered system pages or one contiguous region per allocation
 * @param dmaMask   every physical address of the pool lies at or below this mask ({@code -1L}: anywhere)
 * @param maxChunk  for scattered pools, the longest run one allocation takes at a time, in bytes, a positive multiple
 *                  of the page size (the kernel's system heap uses 1 MiB, 64 KiB and 4 KiB chunks); ignored for
 *                  contiguous pools
 */
public record PoolSpec(String name, long size, Placement placement, long dmaMask, long maxChunk) {

    /** One megabyte, the system heap's largest chunk. */
    public static final long MIB = 1L << 20;

    /** Validates the spec; an invalid one is {@link Errno#EINVAL}. */
    public PoolSpec {
        if (name == null || name.isBlank()) {
            throw new DmaBufException(Errno.EINVAL, "a pool needs a name that is not blank");
        }
        if (size <= 0 || size % DmaBufUapi.PAGE_SIZE != 0) {
            throw new DmaBufException(Errno.EINVAL, "pool '" + name + "': size " + size
                    + " is not a positive multiple of the page size " + DmaBufUapi.PAGE_SIZE);
        }
        if (placement == null) {
            throw new DmaBufException(Errno.EINVAL, "pool '" + name + "' needs a placement");
        }
        if (dmaMask == 0) {
            throw new DmaBufException(Errno.EINVAL, "pool '" + name + "': a DMA mask of 0 reaches no memory");
        }
        if (maxChunk <= 0 || maxChunk % DmaBufUapi.PAGE_SIZE != 0) {
            throw new DmaBufException(Errno.EINVAL, "pool '" + name + "': maxChunk " + maxChunk
                    + " is not a positive multiple of the page size");
        }
    }

    /** A scattered pool anywhere in memory, allocating in chunks of at most 1 MiB. */
    public static PoolSpec scattered(String name, long size) {
        return new PoolSpec(name, size, Placement.SCATTERED, -1L, MIB);
    }

    /** A contiguous pool anywhere in memory. */
    public static PoolSpec contiguous(String name, long size) {
        return new PoolSpec(name, size, Placement.CONTIGUOUS, -1L, MIB);
    }

    /** This spec limited to a DMA mask. */
    public PoolSpec withDmaMask(long mask) {
        return new PoolSpec(name, size, placement, mask, maxChunk);
    }

    /** This spec with another chunk size for scattered allocations. */
    public PoolSpec withMaxChunk(long chunk) {
        return new PoolSpec(name, size, placement, dmaMask, chunk);
    }
}
