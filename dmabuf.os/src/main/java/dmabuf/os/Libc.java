package dmabuf.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Locale;

/**
 * The libc file and memory calls, as FFM downcalls with {@code errno} captured: {@code memfd_create},
 * {@code ftruncate}, {@code fcntl} (seals, dup, close-on-exec), {@code mmap}, {@code munmap}, {@code close},
 * {@code fstat}, {@code open}, {@code ioctl}, {@code strerror}. Available on Linux on x86-64, arm64 and riscv64,
 * whose flag values are the generic ones written here; elsewhere {@link #available()} is false, every call throws
 * {@link UnsupportedOperationException}, and callers fall back or report themselves unavailable.
 * <p>
 * Each failing call throws {@link NativeException} with the errno and its {@code strerror} text. Addresses are passed
 * and returned as plain {@code long}s: a pointer never carries a Java scope into native code, so no arena is held by
 * a call in flight. File descriptors are the process's: whoever gets one from a call here closes it.
 */
public final class Libc {
    /** {@code PROT_NONE}. */
    public static final int PROT_NONE = 0;
    /** {@code PROT_READ}. */
    public static final int PROT_READ = 1;
    /** {@code PROT_WRITE}. */
    public static final int PROT_WRITE = 2;
    /** {@code MAP_SHARED}. */
    public static final int MAP_SHARED = 0x01;
    /** {@code MAP_PRIVATE}. */
    public static final int MAP_PRIVATE = 0x02;
    /** {@code MAP_FIXED}. */
    public static final int MAP_FIXED = 0x10;
    /** {@code MAP_ANONYMOUS}. */
    public static final int MAP_ANONYMOUS = 0x20;
    /** {@code MAP_POPULATE}: fault every page in now. */
    public static final int MAP_POPULATE = 0x8000;
    /** {@code MFD_CLOEXEC}. */
    public static final int MFD_CLOEXEC = 1;
    /** {@code MFD_ALLOW_SEALING}: without it a memfd starts with {@link #F_SEAL_SEAL}. */
    public static final int MFD_ALLOW_SEALING = 2;
    /** {@code O_RDONLY}. */
    public static final int O_RDONLY = 0;
    /** {@code O_RDWR}. */
    public static final int O_RDWR = 2;
    /** {@code O_CLOEXEC}. */
    public static final int O_CLOEXEC = 0x80000;
    /** {@code F_DUPFD}. */
    public static final int F_DUPFD = 0;
    /** {@code F_GETFD}. */
    public static final int F_GETFD = 1;
    /** {@code F_SETFD}. */
    public static final int F_SETFD = 2;
    /** {@code FD_CLOEXEC}, the bit of {@link #F_GETFD}. */
    public static final int FD_CLOEXEC = 1;
    /** {@code F_DUPFD_CLOEXEC}. */
    public static final int F_DUPFD_CLOEXEC = 1030;
    /** {@code F_ADD_SEALS}. */
    public static final int F_ADD_SEALS = 1033;
    /** {@code F_GET_SEALS}. */
    public static final int F_GET_SEALS = 1034;
    /** {@code F_SEAL_SEAL}: no more seals may be added. */
    public static final int F_SEAL_SEAL = 0x1;
    /** {@code F_SEAL_SHRINK}: the file may not shrink. */
    public static final int F_SEAL_SHRINK = 0x2;
    /** {@code F_SEAL_GROW}: the file may not grow. */
    public static final int F_SEAL_GROW = 0x4;
    /** {@code F_SEAL_WRITE}: the contents may not change. */
    public static final int F_SEAL_WRITE = 0x8;
    /** {@code F_SEAL_FUTURE_WRITE}: no new writable mapping or write, existing mappings stay writable. */
    public static final int F_SEAL_FUTURE_WRITE = 0x10;
    /** {@code S_IFMT}. */
    public static final int S_IFMT = 0xF000;
    /** {@code S_IFREG}. */
    public static final int S_IFREG = 0x8000;

    /** {@code fstat}'s {@code struct stat}: 144 bytes on x86-64, 128 on the generic layout; room for either. */
    private static final long STAT_BYTES = 256;
    /** {@code st_size} is at 48 in both layouts. */
    private static final long ST_SIZE = 48;
    /** {@code st_mode}: after {@code st_nlink} (8 bytes) on x86-64, before {@code st_nlink} (4 bytes) elsewhere. */
    private static final long ST_MODE = switch (System.getProperty("os.arch", "")) {
        case "amd64", "x86_64" -> 24;
        default -> 16;
    };

    private static final MethodHandle MEMFD_CREATE;
    private static final MethodHandle FTRUNCATE;
    private static final MethodHandle FCNTL;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    private static final MethodHandle CLOSE;
    private static final MethodHandle FSTAT;
    private static final MethodHandle OPEN;
    private static final MethodHandle IOCTL;
    private static final String UNAVAILABLE;

    static {
        MethodHandle[] h = new MethodHandle[9];
        String why = Syscalls.unavailableReason();
        if (why == null) {
            try {
                h[0] = Syscalls.find("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), -1);
                h[1] = Syscalls.find("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), -1);
                h[2] = Syscalls.find("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), 2);
                h[3] = Syscalls.find("mmap", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT,
                        JAVA_INT, JAVA_INT, JAVA_LONG), -1);
                h[4] = Syscalls.find("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
                h[5] = Syscalls.find("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
                h[6] = Syscalls.find("fstat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), -1);
                h[7] = Syscalls.find("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
                h[8] = Syscalls.find("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
            } catch (Throwable t) { // a libc without one of them (fstat is a symbol since glibc 2.33)
                why = "libc lacks a call: " + t;
                java.util.Arrays.fill(h, null);
            }
        }
        MEMFD_CREATE = h[0];
        FTRUNCATE = h[1];
        FCNTL = h[2];
        MMAP = h[3];
        MUNMAP = h[4];
        CLOSE = h[5];
        FSTAT = h[6];
        OPEN = h[7];
        IOCTL = h[8];
        UNAVAILABLE = why;
    }

    private Libc() {
    }

    /** True when the calls can be made on this system. */
    public static boolean available() {
        return UNAVAILABLE == null;
    }

    /** Why the calls cannot be made, or null when they can. */
    public static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** {@code memfd_create(name, flags)}: a new anonymous shmem file of size 0. */
    public static int memfdCreate(String name, int flags) {
        try (Arena a = Arena.ofConfined()) {
            return (int) Syscalls.call("memfd_create(\"" + name + "\", " + flags + ")", MEMFD_CREATE,
                    a.allocateFrom(name), flags);
        }
    }

    /** {@code ftruncate(fd, length)}. */
    public static void ftruncate(int fd, long length) {
        Syscalls.call("ftruncate(" + fd + ", " + length + ")", FTRUNCATE, fd, length);
    }

    /** {@code fcntl(fd, cmd, arg)} with an int argument. */
    public static int fcntl(int fd, int cmd, int arg) {
        return (int) Syscalls.call("fcntl(" + fd + ", " + cmd + ", " + arg + ")", FCNTL, fd, cmd, arg);
    }

    /** {@code fcntl(fd, F_ADD_SEALS, seals)}: EPERM when {@link #F_SEAL_SEAL} is set, EBUSY for a write seal on a
     * file with writable shared mappings, EINVAL for a file that cannot be sealed. */
    public static void addSeals(int fd, int seals) {
        Syscalls.call("fcntl(" + fd + ", F_ADD_SEALS, 0x" + Integer.toHexString(seals) + ")", FCNTL, fd,
                F_ADD_SEALS, seals);
    }

    /** {@code fcntl(fd, F_GET_SEALS)}: the seals; EINVAL for a file that is not shmem (not a memfd). */
    public static int getSeals(int fd) {
        return (int) Syscalls.call("fcntl(" + fd + ", F_GET_SEALS)", FCNTL, fd, F_GET_SEALS, 0);
    }

    /** A new fd for the same open file, the lowest free one, with or without close-on-exec. */
    public static int dup(int fd, boolean closeOnExec) {
        return (int) Syscalls.call("fcntl(" + fd + (closeOnExec ? ", F_DUPFD_CLOEXEC, 0)" : ", F_DUPFD, 0)"), FCNTL,
                fd, closeOnExec ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
    }

    /** True when {@code fd} has close-on-exec; EBADF for a closed fd. */
    public static boolean isCloseOnExec(int fd) {
        return (fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) != 0;
    }

    /** {@code mmap(addr, length, prot, flags, fd, offset)}: the address of the mapping. */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        return Syscalls.call(String.format(Locale.ROOT, "mmap(0x%x, %d, prot=0x%x, flags=0x%x, fd=%d, offset=%d)",
                addr, length, prot, flags, fd, offset), MMAP, addr, length, prot, flags, fd, offset);
    }

    /** {@code munmap(addr, length)}. */
    public static void munmap(long addr, long length) {
        Syscalls.call(String.format(Locale.ROOT, "munmap(0x%x, %d)", addr, length), MUNMAP, addr, length);
    }

    /** {@code close(fd)}. */
    public static void close(int fd) {
        Syscalls.call("close(" + fd + ")", CLOSE, fd);
    }

    /** What {@code fstat} says of an fd: its type and size. */
    public static FileStat fstat(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = a.allocate(STAT_BYTES, 8);
            Syscalls.call("fstat(" + fd + ")", FSTAT, fd, st);
            return new FileStat(st.get(JAVA_INT, ST_MODE), st.get(JAVA_LONG, ST_SIZE));
        }
    }

    /** {@code open(path, flags)}. */
    public static int open(String path, int flags) {
        try (Arena a = Arena.ofConfined()) {
            return (int) Syscalls.call("open(\"" + path + "\", 0x" + Integer.toHexString(flags) + ")", OPEN,
                    a.allocateFrom(path), flags, 0);
        }
    }

    /**
     * {@code ioctl(fd, request, arg)} with a pointer argument.
     *
     * @param fd      the file
     * @param request the request number
     * @param arg     the argument struct, native memory the caller keeps alive over the call
     * @return the call's non-negative result
     */
    public static int ioctl(int fd, long request, MemorySegment arg) {
        return (int) Syscalls.call(String.format(Locale.ROOT, "ioctl(%d, 0x%x)", fd, request), IOCTL, fd, request,
                arg);
    }

    /** What {@code strerror} says for {@code errno}, with its symbolic name where known, e.g.
     * {@code "Bad file descriptor [EBADF]"}. */
    public static String strerror(int errno) {
        return Syscalls.strerror(errno);
    }

    /**
     * What {@code fstat} reported.
     *
     * @param mode the {@code st_mode} bits (type and permissions)
     * @param size the size in bytes
     */
    public record FileStat(int mode, long size) {
        /** True for a regular file (a memfd is one). */
        public boolean isRegularFile() {
            return (mode & S_IFMT) == S_IFREG;
        }
    }
}
