package dmabuf.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The libc calls the syscall anchors make, as FFM downcalls: {@code getppid} (the cheapest syscall: the floor of an
 * ioctl from Java), {@code dup}/{@code close} (an fd table insert and remove) and {@code memfd_create},
 * {@code ftruncate}, {@code mmap}, {@code munmap} (what making memory reachable costs the kernel).
 */
final class Libc {
    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MethodHandle GETPPID = handle("getppid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
    private static final MethodHandle DUP = handle("dup",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle MEMFD_CREATE = handle("memfd_create",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle FTRUNCATE = handle("ftruncate",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MMAP = handle("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS,
            ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = handle("munmap",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    /** The name memfd_create gets; allocated once so the anchor measures the syscalls, not a string copy. */
    private static final MemorySegment MEMFD_NAME = Arena.global().allocateFrom("bench");

    private Libc() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        MemorySegment symbol = LIBC.find(name)
                .orElseThrow(() -> new IllegalStateException("libc has no " + name + " on this system"));
        return LINKER.downcallHandle(symbol, descriptor);
    }

    static int getppid() {
        try {
            return (int) GETPPID.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("getppid failed", t);
        }
    }

    static int dup(int fd) {
        try {
            return (int) DUP.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("dup failed", t);
        }
    }

    static int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close failed", t);
        }
    }

    /**
     * memfd_create + ftruncate + mmap + munmap + close of {@code bytes}, untouched: the cost of making memory of that
     * size reachable from the CPU, without the page faults.
     *
     * @return the mapped address (for the blackhole)
     */
    static long memfdMapUnmap(long bytes) {
        try {
            int fd = (int) MEMFD_CREATE.invokeExact(MEMFD_NAME, 0);
            if (fd < 0) {
                throw new IllegalStateException("memfd_create failed");
            }
            try {
                if ((int) FTRUNCATE.invokeExact(fd, bytes) != 0) {
                    throw new IllegalStateException("ftruncate failed");
                }
                MemorySegment address = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, bytes,
                        PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L);
                if (address.address() == -1L) {
                    throw new IllegalStateException("mmap failed");
                }
                int unmapped = (int) MUNMAP.invokeExact(address, bytes);
                if (unmapped != 0) {
                    throw new IllegalStateException("munmap failed");
                }
                return address.address();
            } finally {
                int closed = (int) CLOSE.invokeExact(fd);
                if (closed != 0) {
                    throw new IllegalStateException("close failed");
                }
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("memfd anchor failed", t);
        }
    }
}
