package dmabuf.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The downcall machinery shared by {@link Libc} and {@link UnixSocket}: looks libc functions up once, captures
 * {@code errno} with {@link Linker.Option#captureCallState(String...)} (reading the thread-local {@code errno} after
 * the call returns would see whatever the JVM did in between), and turns a {@code -1} result into a
 * {@link NativeException}. Available on Linux on x86-64, arm64 and riscv64, whose constants and struct layouts are
 * the generic ones written in this package; elsewhere every handle is absent and {@link #unavailableReason()} says
 * why.
 */
@SuppressWarnings("restricted") // downcalls are the point of this class
final class Syscalls {
    private static final Linker LINKER;
    private static final StructLayout CAPTURE;
    private static final VarHandle ERRNO;
    private static final MethodHandle STRERROR;
    private static final String UNAVAILABLE;

    /** The errno names of the values these calls return, for messages a person can search for. */
    private static final Map<Integer, String> NAMES = Map.ofEntries(Map.entry(1, "EPERM"), Map.entry(2, "ENOENT"),
            Map.entry(4, "EINTR"), Map.entry(5, "EIO"), Map.entry(9, "EBADF"), Map.entry(11, "EAGAIN"),
            Map.entry(12, "ENOMEM"), Map.entry(13, "EACCES"), Map.entry(14, "EFAULT"), Map.entry(16, "EBUSY"),
            Map.entry(17, "EEXIST"), Map.entry(19, "ENODEV"), Map.entry(20, "ENOTDIR"), Map.entry(22, "EINVAL"),
            Map.entry(24, "EMFILE"), Map.entry(25, "ENOTTY"), Map.entry(27, "EFBIG"), Map.entry(28, "ENOSPC"),
            Map.entry(32, "EPIPE"), Map.entry(75, "EOVERFLOW"), Map.entry(77, "EBADFD"),
            Map.entry(88, "ENOTSOCK"), Map.entry(95, "EOPNOTSUPP"), Map.entry(98, "EADDRINUSE"),
            Map.entry(104, "ECONNRESET"), Map.entry(107, "ENOTCONN"), Map.entry(110, "ETIMEDOUT"),
            Map.entry(111, "ECONNREFUSED"));

    static {
        Linker linker = null;
        StructLayout capture = null;
        VarHandle errno = null;
        MethodHandle strerror = null;
        String why = null;
        String os = System.getProperty("os.name", "");
        String arch = System.getProperty("os.arch", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            why = "not Linux (os.name=" + os + ")";
        } else if (!(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64")
                || arch.equals("riscv64"))) {
            why = "constants and struct layouts not known for os.arch=" + arch;
        } else {
            try {
                linker = Linker.nativeLinker();
                capture = Linker.Option.captureStateLayout();
                errno = capture.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                strerror = linker.downcallHandle(linker.defaultLookup().findOrThrow("strerror"),
                        FunctionDescriptor.of(ADDRESS, JAVA_INT));
            } catch (Throwable t) { // IllegalCallerException without native access, UnsatisfiedLinkError, ...
                why = "libc downcalls unavailable: " + t;
                linker = null;
            }
        }
        LINKER = why == null ? linker : null;
        CAPTURE = capture;
        ERRNO = errno;
        STRERROR = strerror;
        UNAVAILABLE = why;
    }

    private Syscalls() {
    }

    /** Why no call can be made, or null when they can. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * A downcall handle for a libc function that sets errno, taking the capture segment as its first argument; null
     * when the platform is unavailable.
     *
     * @param name         the symbol
     * @param descriptor   its C signature
     * @param firstVarArg  the index of the first variadic parameter ({@code fcntl}, {@code ioctl}, {@code open}), or
     *                     -1 for a plain function
     * @return the handle
     * @throws java.util.NoSuchElementException when libc lacks the symbol
     */
    static MethodHandle find(String name, FunctionDescriptor descriptor, int firstVarArg) {
        if (LINKER == null) {
            return null;
        }
        Linker.Option errno = Linker.Option.captureCallState("errno");
        MemorySegment symbol = LINKER.defaultLookup().findOrThrow(name);
        return firstVarArg < 0 ? LINKER.downcallHandle(symbol, descriptor, errno)
                : LINKER.downcallHandle(symbol, descriptor, errno, Linker.Option.firstVariadicArg(firstVarArg));
    }

    /**
     * Calls {@code handle} and returns its result as a long; {@code -1} (the C convention, also {@code MAP_FAILED})
     * becomes a {@link NativeException} with the captured errno.
     *
     * @param what   the call with its arguments, for the message
     * @param handle a handle from {@link #find}
     * @param args   the C arguments after the capture segment
     * @return the result
     */
    static long call(String what, MethodHandle handle, Object... args) {
        if (handle == null) {
            throw new UnsupportedOperationException("libc calls are unavailable: " + UNAVAILABLE);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            Object[] all = new Object[args.length + 1];
            all[0] = state;
            System.arraycopy(args, 0, all, 1, args.length);
            Object result = handle.invokeWithArguments(Arrays.asList(all));
            long r = result instanceof Integer i ? i : (Long) result;
            if (r == -1L) {
                int errno = (int) ERRNO.get(state, 0L);
                throw new NativeException(what, errno, strerror(errno));
            }
            return r;
        } catch (RuntimeException | Error e) { // NativeException among them
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(what, t);
        }
    }

    /** What {@code strerror} says for {@code errno}, with its symbolic name where known. */
    static String strerror(int errno) {
        String text = null;
        if (STRERROR != null) {
            try {
                MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
                if (!s.equals(MemorySegment.NULL)) {
                    text = s.reinterpret(1024).getString(0);
                }
            } catch (Throwable ignored) {
                // fall through to the number
            }
        }
        if (text == null) {
            text = "errno " + errno;
        }
        String name = NAMES.get(errno);
        return name == null ? text : text + " [" + name + "]";
    }

    /** The symbolic name of an errno value, e.g. {@code EBADF}, or {@code errno N}. */
    static String name(int errno) {
        return NAMES.getOrDefault(errno, "errno " + errno);
    }
}
