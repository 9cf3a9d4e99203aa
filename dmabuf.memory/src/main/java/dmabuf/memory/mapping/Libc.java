package dmabuf.memory.mapping;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;

import dmabuf.api.Errno;

/**
 * The few libc calls the engine needs, as FFM downcalls with {@code errno} captured: {@code memfd_create},
 * {@code ftruncate}, {@code mmap}, {@code munmap}, {@code close}, {@code strerror}. Available on Linux on x86-64,
 * arm64 and riscv64, whose {@code mmap} flag values are the generic ones written here; elsewhere
 * {@link #available()} is false and the engine falls back to arena memory.
 * <p>
 * Each failing call throws {@link NativeException} with the errno and its {@code strerror} text. Addresses are passed
 * and returned as plain {@code long}s: a pointer never carries a Java scope into native code, so no arena is held by
 * a call in flight.
 */
@SuppressWarnings("restricted") // downcalls are the point of this class
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

    private static final long MAP_FAILED = -1L;

    private record Handles(MethodHandle memfdCreate, MethodHandle ftruncate, MethodHandle mmap,
            MethodHandle munmap, MethodHandle close, MethodHandle strerror, StructLayout captureLayout,
            VarHandle errno) {
    }

    private static final Handles H;
    private static final String UNAVAILABLE;

    static {
        Handles h = null;
        String why = null;
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            why = "not Linux (os.name=" + os + ")";
        } else if (!(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64")
                || arch.equals("riscv64"))) {
            why = "mmap flag values not known for os.arch=" + arch;
        } else {
            try {
                h = load();
            } catch (Throwable t) { // UnsatisfiedLinkError, IllegalCallerException without native access, ...
                why = "libc downcalls unavailable: " + t;
            }
        }
        H = h;
        UNAVAILABLE = why;
    }

    private Libc() {
    }

    private static Handles load() {
        Linker linker = Linker.nativeLinker();
        var lookup = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        StructLayout capture = Linker.Option.captureStateLayout();
        VarHandle errnoHandle = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        return new Handles(
                linker.downcallHandle(lookup.findOrThrow("memfd_create"),
                        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno),
                linker.downcallHandle(lookup.findOrThrow("ftruncate"),
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), errno),
                linker.downcallHandle(lookup.findOrThrow("mmap"),
                        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT,
                                JAVA_LONG),
                        errno),
                linker.downcallHandle(lookup.findOrThrow("munmap"),
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), errno),
                linker.downcallHandle(lookup.findOrThrow("close"), FunctionDescriptor.of(JAVA_INT, JAVA_INT),
                        errno),
                linker.downcallHandle(lookup.findOrThrow("strerror"), FunctionDescriptor.of(ADDRESS, JAVA_INT)),
                capture, errnoHandle);
    }

    /** True when the calls can be made on this system. */
    public static boolean available() {
        return H != null;
    }

    /** Why the calls cannot be made, or null when they can. */
    public static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** {@code memfd_create(name, flags)}: a new anonymous shmem file. */
    public static int memfdCreate(String name, int flags) {
        Handles h = handles();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(h.captureLayout());
            int fd = (int) h.memfdCreate().invokeExact(state, a.allocateFrom(name), flags);
            if (fd < 0) {
                throw failure("memfd_create(\"" + name + "\", " + flags + ")", state);
            }
            return fd;
        } catch (NativeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("memfd_create", t);
        }
    }

    /** {@code ftruncate(fd, length)}. */
    public static void ftruncate(int fd, long length) {
        Handles h = handles();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(h.captureLayout());
            int rc = (int) h.ftruncate().invokeExact(state, fd, length);
            if (rc != 0) {
                throw failure("ftruncate(" + fd + ", " + length + ")", state);
            }
        } catch (NativeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("ftruncate", t);
        }
    }

    /** {@code mmap(addr, length, prot, flags, fd, offset)}: the address of the mapping. */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset) {
        Handles h = handles();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(h.captureLayout());
            long p = (long) h.mmap().invokeExact(state, addr, length, prot, flags, fd, offset);
            if (p == MAP_FAILED) {
                throw failure(String.format(Locale.ROOT, "mmap(0x%x, %d, prot=0x%x, flags=0x%x, fd=%d, offset=%d)",
                        addr, length, prot, flags, fd, offset), state);
            }
            return p;
        } catch (NativeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("mmap", t);
        }
    }

    /** {@code munmap(addr, length)}. */
    public static void munmap(long addr, long length) {
        Handles h = handles();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(h.captureLayout());
            int rc = (int) h.munmap().invokeExact(state, addr, length);
            if (rc != 0) {
                throw failure(String.format(Locale.ROOT, "munmap(0x%x, %d)", addr, length), state);
            }
        } catch (NativeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("munmap", t);
        }
    }

    /** {@code close(fd)}. */
    public static void close(int fd) {
        Handles h = handles();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(h.captureLayout());
            int rc = (int) h.close().invokeExact(state, fd);
            if (rc != 0) {
                throw failure("close(" + fd + ")", state);
            }
        } catch (NativeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("close", t);
        }
    }

    /** What {@code strerror} says for {@code errno}, with its symbolic name where {@link Errno} knows it. */
    public static String strerror(int errno) {
        String name = null;
        for (Errno e : Errno.values()) {
            if (e.number() == errno) {
                name = e.name();
            }
        }
        String text = null;
        if (H != null) {
            try {
                MemorySegment s = (MemorySegment) H.strerror().invokeExact(errno);
                if (!s.equals(MemorySegment.NULL)) {
                    text = s.reinterpret(1024).getString(0);
                }
            } catch (Throwable ignored) {
                // fall through to the table
            }
        }
        if (text == null) {
            text = "errno " + errno;
            for (Errno e : Errno.values()) {
                if (e.number() == errno) {
                    text = e.description();
                }
            }
        }
        return name == null ? text : text + " [" + name + "]";
    }

    private static Handles handles() {
        if (H == null) {
            throw new UnsupportedOperationException("libc calls are unavailable: " + UNAVAILABLE);
        }
        return H;
    }

    private static NativeException failure(String call, MemorySegment state) {
        int errno = (int) H.errno().get(state, 0L);
        return new NativeException(call, errno, strerror(errno));
    }
}
