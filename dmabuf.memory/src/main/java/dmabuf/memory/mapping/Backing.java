package dmabuf.memory.mapping;

import dmabuf.os.Libc;
import dmabuf.os.NativeException;
import java.lang.foreign.Arena;
import java.util.concurrent.locks.LockSupport;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.memory.Sizes;

/**
 * The real memory behind one pool: its "linear map" (the kernel's direct mapping of physical memory, here one
 * {@link MemorySegment} of the pool's size, pre-faulted) and, where the system allows it, the means to map scattered
 * pages of it again at one contiguous virtual range (the kernel's {@code vmap}).
 * <p>
 * The linear map belongs to an arena of its own that {@link #close()} closes: every slice of it (a page, a resolved
 * DMA range, a contiguous run) is scoped to the pool and becomes invalid the instant the pool closes.
 */
public abstract sealed class Backing permits Backing.Memfd, Backing.Heap {
    /** The pool's name, for messages. */
    protected final String name;
    /** The pool's size in bytes. */
    protected final long size;
    /** The scope of the linear map. */
    protected final Arena arena;
    /** The linear map, {@link #size} bytes. */
    protected final MemorySegment linear;

    private Backing(String name, long size, Arena arena, MemorySegment linear) {
        this.name = name;
        this.size = size;
        this.arena = arena;
        this.linear = linear;
    }

    /**
     * Reserves and pre-faults {@code size} bytes: a memfd mapped with {@code MAP_POPULATE} when {@code allowNative}
     * and {@link Libc#available()}, else (or when one of those calls fails, reported to {@code warn}) arena memory
     * touched page by page.
     *
     * @throws DmaBufException {@link Errno#ENOMEM} when neither can get the memory
     */
    public static Backing create(String name, long size, boolean allowNative, Consumer<String> warn) {
        String nativeFailure = null;
        if (allowNative && Libc.available()) {
            try {
                return Memfd.create(name, size);
            } catch (NativeException e) {
                nativeFailure = e.getMessage();
                warn.accept("pool '" + name + "': " + nativeFailure + "; using arena memory instead (no "
                        + "contiguous views of scattered allocations for this pool)");
            }
        }
        try {
            return Heap.create(name, size);
        } catch (OutOfMemoryError | IllegalArgumentException e) {
            throw new DmaBufException(Errno.ENOMEM, "pool '" + name + "': cannot reserve " + Sizes.bytes(size)
                    + (nativeFailure != null ? ": " + nativeFailure + "; then arena memory: " : ": ") + e);
        }
    }

    /** The linear map: {@code size} bytes, scoped to the pool. */
    public final MemorySegment linearMap() {
        return linear;
    }

    /** {@code memfd} or {@code arena}: what the memory is, for messages and stats. */
    public abstract String kind();

    /** True when {@link #alias} can map scattered pages contiguously. */
    public abstract boolean canAlias();

    /**
     * Maps the given runs of the pool, in this order, at one contiguous virtual range.
     *
     * @param offsets each run's byte offset in the pool
     * @param lengths each run's length in bytes
     * @param total   the sum of the lengths
     * @return the view, in an arena of its own: closing the arena unmaps the alias
     * @throws DmaBufException {@link Errno#EOPNOTSUPP} when this backing cannot alias; {@link Errno#ENOMEM} when
     *         a mapping call fails
     */
    public abstract Alias alias(long[] offsets, long[] lengths, long total);

    /** Unmaps and frees the memory; every slice of the linear map becomes invalid. */
    public abstract void close();

    /**
     * A contiguous alias of scattered pages.
     *
     * @param arena its scope; closing it unmaps the alias
     * @param view  the pages in buffer order
     */
    public record Alias(Arena arena, MemorySegment view) {
        /** Unmaps the alias; its view becomes invalid. */
        public void close() {
            closeArena(arena);
        }
    }

    /** Closes an arena, retrying while a native call still holds one of its segments; false if it never could. */
    static boolean closeArena(Arena arena) {
        for (int attempt = 0; attempt < 200; attempt++) {
            try {
                arena.close();
                return true;
            } catch (IllegalStateException busy) {
                if (!arena.scope().isAlive()) {
                    return true;
                }
                if (Thread.currentThread().isInterrupted()) {
                    return false;
                }
                LockSupport.parkNanos(1_000_000); // bounded back-off: at most 200 ms in all
            }
        }
        return false;
    }

    /** A memfd mapped shared: the pool's pages can be mapped a second time at any offset. */
    static final class Memfd extends Backing {
        private final int fd;

        private Memfd(String name, long size, Arena arena, MemorySegment linear, int fd) {
            super(name, size, arena, linear);
            this.fd = fd;
        }

        @SuppressWarnings("restricted") // the mapping's address becomes a segment of the pool's size
        static Memfd create(String name, long size) {
            String memfdName = "dmabuf:" + (name.length() > 200 ? name.substring(0, 200) : name);
            int fd = Libc.memfdCreate(memfdName, Libc.MFD_CLOEXEC);
            long address;
            try {
                Libc.ftruncate(fd, size);
                address = Libc.mmap(0, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE,
                        fd, 0);
            } catch (RuntimeException e) {
                quietClose(fd);
                throw e;
            }
            Arena arena = Arena.ofShared();
            MemorySegment linear = MemorySegment.ofAddress(address).reinterpret(size, arena,
                    ignored -> quietMunmap(address, size));
            return new Memfd(name, size, arena, linear, fd);
        }

        @Override
        public String kind() {
            return "memfd";
        }

        @Override
        public boolean canAlias() {
            return true;
        }

        @Override
        @SuppressWarnings("restricted")
        public Alias alias(long[] offsets, long[] lengths, long total) {
            long base;
            try {
                base = Libc.mmap(0, total, Libc.PROT_NONE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
            } catch (NativeException e) {
                throw new DmaBufException(Errno.ENOMEM, "pool '" + name + "': cannot reserve "
                        + Sizes.bytes(total) + " of address space for a contiguous view: " + e.getMessage());
            }
            long at = 0;
            int i = 0;
            try {
                for (; i < offsets.length; i++) {
                    Libc.mmap(base + at, lengths[i], Libc.PROT_READ | Libc.PROT_WRITE,
                            Libc.MAP_SHARED | Libc.MAP_FIXED, fd, offsets[i]);
                    at += lengths[i];
                }
            } catch (NativeException e) {
                quietMunmap(base, total);
                throw new DmaBufException(Errno.ENOMEM, "pool '" + name + "': cannot map run " + i + " (offset "
                        + offsets[i] + ") at view offset " + at + " of a contiguous view: " + e.getMessage());
            }
            Arena a = Arena.ofShared();
            MemorySegment view = MemorySegment.ofAddress(base).reinterpret(total, a,
                    ignored -> quietMunmap(base, total));
            return new Alias(a, view);
        }

        @Override
        public void close() {
            if (closeArena(arena)) { // munmaps the linear map
                quietClose(fd);
            }
        }

        private static void quietMunmap(long address, long length) {
            try {
                Libc.munmap(address, length);
            } catch (RuntimeException ignored) {
                // only possible for a range that is not ours; nothing to repair
            }
        }

        private static void quietClose(int fd) {
            try {
                Libc.close(fd);
            } catch (RuntimeException ignored) {
                // EINTR after the fd was released, or EBADF: either way it is gone
            }
        }
    }

    /** Arena memory: anywhere, but one mapping only, so scattered pages cannot be aliased. */
    static final class Heap extends Backing {
        private Heap(String name, long size, Arena arena, MemorySegment linear) {
            super(name, size, arena, linear);
        }

        static Heap create(String name, long size) {
            Arena arena = Arena.ofShared();
            MemorySegment linear;
            try {
                linear = arena.allocate(size, 4096);
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
            // Arena.allocate zeroes (which faults every page in); touching one byte per page states the intent and
            // costs nothing more once the pages are resident.
            for (long off = 0; off < size; off += 4096) {
                linear.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off, (byte) 0);
            }
            return new Heap(name, size, arena, linear);
        }

        @Override
        public String kind() {
            return "arena";
        }

        @Override
        public boolean canAlias() {
            return false;
        }

        @Override
        public Alias alias(long[] offsets, long[] lengths, long total) {
            throw new DmaBufException(Errno.EOPNOTSUPP, "pool '" + name + "' is arena memory ("
                    + (Libc.available() ? "memfd was not used" : Libc.unavailableReason())
                    + "): its scattered pages cannot be mapped contiguously; use page() (kmap) instead");
        }

        @Override
        public void close() {
            closeArena(arena);
        }
    }
}
