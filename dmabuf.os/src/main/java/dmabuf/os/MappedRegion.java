package dmabuf.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A shared mapping of file ranges into this process ({@code mmap(MAP_SHARED)}), as a {@link MemorySegment} whose
 * scope is the region's own arena: {@link #close()} closes the arena, whose cleanup unmaps the whole region exactly
 * once, and every view of it then throws {@link IllegalStateException} instead of touching unmapped memory.
 * <p>
 * One range is mapped directly; several ranges (of one or more files) are laid out contiguously by reserving the
 * address range first ({@code PROT_NONE}) and mapping each range over its place with {@code MAP_FIXED}, so the
 * region reads as one buffer while each page stays the file's page: no copy.
 */
@SuppressWarnings("restricted") // giving the mapping its size and scope is the point of this class
public final class MappedRegion implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment segment;
    private final long address;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MappedRegion(long address, long length) {
        this.address = address;
        this.arena = Arena.ofShared();
        this.segment = MemorySegment.ofAddress(address).reinterpret(length, arena, s -> Libc.munmap(address, length));
    }

    /**
     * One range of a file.
     *
     * @param fd     the file, open for what {@code prot} asks
     * @param offset the first byte, page-aligned
     * @param length the length, positive and page-aligned
     */
    public record FileRange(int fd, long offset, long length) {
    }

    /**
     * Maps one range of a file shared.
     *
     * @param range the range
     * @param prot  {@link Libc#PROT_READ} and/or {@link Libc#PROT_WRITE}
     * @return the region
     * @throws NativeException as {@code mmap} fails
     */
    public static MappedRegion map(FileRange range, int prot) {
        long address = Libc.mmap(0, range.length(), prot, Libc.MAP_SHARED, range.fd(), range.offset());
        return new MappedRegion(address, range.length());
    }

    /**
     * Maps several file ranges shared, one after the other in one contiguous region.
     *
     * @param ranges the ranges in order, at least one, each page-aligned
     * @param prot   {@link Libc#PROT_READ} and/or {@link Libc#PROT_WRITE}
     * @return the region, as long as the ranges together
     * @throws NativeException as {@code mmap} fails; nothing stays mapped then
     */
    public static MappedRegion mapAll(List<FileRange> ranges, int prot) {
        if (ranges.size() == 1) {
            return map(ranges.get(0), prot);
        }
        long total = 0;
        for (FileRange r : ranges) {
            total = Math.addExact(total, r.length());
        }
        long base = Libc.mmap(0, total, Libc.PROT_NONE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        try {
            long at = 0;
            for (FileRange r : ranges) {
                Libc.mmap(base + at, r.length(), prot, Libc.MAP_SHARED | Libc.MAP_FIXED, r.fd(), r.offset());
                at += r.length();
            }
        } catch (RuntimeException e) {
            Libc.munmap(base, total); // one munmap covers the reservation and whatever was mapped over it
            throw e;
        }
        return new MappedRegion(base, total);
    }

    /** The mapping; invalid once the region is closed. */
    public MemorySegment segment() {
        return segment;
    }

    /** The address of the first byte, as the process sees it. */
    public long address() {
        return address;
    }

    /** The length in bytes. */
    public long length() {
        return segment.byteSize();
    }

    /** True once {@link #close()} ran. */
    public boolean isClosed() {
        return closed.get();
    }

    /** Unmaps the region (once: later calls do nothing); its views become invalid. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            arena.close();
        }
    }

    @Override
    public String toString() {
        return String.format("mapping 0x%x+%d%s", address, segment.byteSize(), closed.get() ? " (unmapped)" : "");
    }
}
