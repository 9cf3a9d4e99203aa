package dmabuf.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A connected Unix domain stream socket that sends and receives file descriptors ({@code SCM_RIGHTS} ancillary data
 * on {@code sendmsg}/{@code recvmsg}), besides plain bytes. What the JDK's {@code SocketChannel} cannot do: passing an
 * fd is how a dma-buf or memfd reaches a native process (a compositor, an encoder) with zero copies.
 * <p>
 * Every wait is bounded: {@link #receiveFd(Duration)}, {@link #receive(byte[], Duration)} and
 * {@link Listener#accept(Duration)} poll first and fail with {@code ETIMEDOUT} when nothing came. Received fds get
 * close-on-exec ({@code MSG_CMSG_CLOEXEC}); the receiver owns and closes them. Thread-safe as the kernel's socket
 * calls are; one sender and one receiver at a time keep messages whole.
 */
public final class UnixSocket implements AutoCloseable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final short POLLIN = 1;
    private static final int ETIMEDOUT = 110;
    /** {@code sizeof(sun_path)}. */
    private static final int SUN_PATH = 108;
    /** {@code struct msghdr}: name, namelen, iov, iovlen, control, controllen, flags. */
    private static final long MSGHDR_BYTES = 56;
    /** {@code CMSG_SPACE(sizeof(int))}: a 16-byte {@code cmsghdr} and the int padded to 8. */
    private static final long CMSG_SPACE_INT = 24;
    /** {@code CMSG_LEN(sizeof(int))}. */
    private static final long CMSG_LEN_INT = 20;

    private static final MethodHandle SOCKET;
    private static final MethodHandle SOCKETPAIR;
    private static final MethodHandle BIND;
    private static final MethodHandle LISTEN;
    private static final MethodHandle ACCEPT4;
    private static final MethodHandle CONNECT;
    private static final MethodHandle SENDMSG;
    private static final MethodHandle RECVMSG;
    private static final MethodHandle POLL;

    static {
        MethodHandle[] h = new MethodHandle[9];
        if (Libc.available()) {
            try {
                h[0] = Syscalls.find("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), -1);
                h[1] = Syscalls.find("socketpair",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), -1);
                h[2] = Syscalls.find("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), -1);
                h[3] = Syscalls.find("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
                h[4] = Syscalls.find("accept4",
                        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT), -1);
                h[5] = Syscalls.find("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), -1);
                h[6] = Syscalls.find("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), -1);
                h[7] = Syscalls.find("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), -1);
                h[8] = Syscalls.find("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), -1);
            } catch (Throwable t) {
                java.util.Arrays.fill(h, null); // every call then says libc is unavailable
            }
        }
        SOCKET = h[0];
        SOCKETPAIR = h[1];
        BIND = h[2];
        LISTEN = h[3];
        ACCEPT4 = h[4];
        CONNECT = h[5];
        SENDMSG = h[6];
        RECVMSG = h[7];
        POLL = h[8];
    }

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private UnixSocket(int fd) {
        this.fd = fd;
    }

    /** Two connected sockets ({@code socketpair(AF_UNIX, SOCK_STREAM)}), both close-on-exec. */
    public static UnixSocket[] pair() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            Syscalls.call("socketpair(AF_UNIX, SOCK_STREAM)", SOCKETPAIR, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                    fds);
            return new UnixSocket[] {new UnixSocket(fds.getAtIndex(JAVA_INT, 0)),
                    new UnixSocket(fds.getAtIndex(JAVA_INT, 1))};
        }
    }

    /**
     * Connects to a listening socket at a path.
     *
     * @param path the socket's path, at most 107 bytes
     * @return the connected socket
     */
    public static UnixSocket connect(Path path) {
        int s = newSocket();
        try (Arena a = Arena.ofConfined()) {
            Syscalls.call("connect(" + s + ", \"" + path + "\")", CONNECT, s, address(a, path), 2 + SUN_PATH);
            return new UnixSocket(s);
        } catch (RuntimeException e) {
            Libc.close(s);
            throw e;
        }
    }

    /**
     * Listens at a path ({@code socket}, {@code bind}, {@code listen}); the path must not exist yet.
     *
     * @param path where, at most 107 bytes
     * @return the listener; closing it closes the socket and removes the path
     */
    public static Listener listen(Path path) {
        int s = newSocket();
        try (Arena a = Arena.ofConfined()) {
            Syscalls.call("bind(" + s + ", \"" + path + "\")", BIND, s, address(a, path), 2 + SUN_PATH);
            Syscalls.call("listen(" + s + ")", LISTEN, s, 4);
            return new Listener(s, path);
        } catch (RuntimeException e) {
            Libc.close(s);
            throw e;
        }
    }

    private static int newSocket() {
        return (int) Syscalls.call("socket(AF_UNIX, SOCK_STREAM)", SOCKET, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    }

    private static MemorySegment address(Arena a, Path path) {
        byte[] bytes = path.toString().getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= SUN_PATH) {
            throw new IllegalArgumentException("a Unix socket path has at most " + (SUN_PATH - 1) + " bytes: " + path);
        }
        MemorySegment sa = a.allocate(2 + SUN_PATH, 8); // zeroed: the path ends with a NUL
        sa.set(JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(bytes, 0, sa, JAVA_BYTE, 2, bytes.length);
        return sa;
    }

    /** Waits at most {@code timeout} for {@code fd} to be readable; ETIMEDOUT otherwise. */
    static void awaitReadable(int fd, Duration timeout, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pfd = a.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd);
            pfd.set(JAVA_SHORT, 4, POLLIN);
            int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(0, timeout.toMillis()));
            long ready = Syscalls.call("poll(" + fd + ", " + ms + " ms)", POLL, pfd, 1L, ms);
            if (ready == 0) {
                throw new NativeException(what + " within " + timeout.toMillis() + " ms", ETIMEDOUT,
                        Syscalls.strerror(ETIMEDOUT));
            }
        }
    }

    /** The socket's own fd. */
    public int fd() {
        return fd;
    }

    /**
     * Sends one fd with one byte of data (a stream needs at least one byte to carry the ancillary data). The fd stays
     * open here; the receiver gets its own.
     *
     * @param fdToSend an open fd of this process
     */
    public void sendFd(int fdToSend) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocate(1);
            data.set(JAVA_BYTE, 0, (byte) 'F');
            MemorySegment control = a.allocate(CMSG_SPACE_INT, 8);
            control.set(JAVA_LONG, 0, CMSG_LEN_INT);
            control.set(JAVA_INT, 8, SOL_SOCKET);
            control.set(JAVA_INT, 12, SCM_RIGHTS);
            control.set(JAVA_INT, 16, fdToSend);
            MemorySegment msg = message(a, data, control);
            Syscalls.call("sendmsg(" + fd + ", SCM_RIGHTS " + fdToSend + ")", SENDMSG, fd, msg, MSG_NOSIGNAL);
        }
    }

    /**
     * Receives one fd sent with {@link #sendFd} (or any {@code SCM_RIGHTS} message carrying one), waiting at most
     * {@code timeout}.
     *
     * @param timeout the longest wait
     * @return the new fd, close-on-exec, owned by the caller
     * @throws NativeException ETIMEDOUT when nothing came, ECONNRESET when the peer closed, EBADMSG-like EIO when the
     *                         message carried no fd
     */
    public int receiveFd(Duration timeout) {
        awaitReadable(fd, timeout, "recvmsg(" + fd + ") of an fd");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocate(1);
            MemorySegment control = a.allocate(CMSG_SPACE_INT, 8);
            MemorySegment msg = message(a, data, control);
            long n = Syscalls.call("recvmsg(" + fd + ")", RECVMSG, fd, msg, MSG_CMSG_CLOEXEC);
            if (n == 0) {
                throw new NativeException("recvmsg(" + fd + "): the peer closed the socket", 104,
                        Syscalls.strerror(104));
            }
            long controlLen = msg.get(JAVA_LONG, 40);
            if (controlLen < CMSG_LEN_INT || control.get(JAVA_INT, 8) != SOL_SOCKET
                    || control.get(JAVA_INT, 12) != SCM_RIGHTS) {
                throw new NativeException("recvmsg(" + fd + "): the message carried no fd", 5, Syscalls.strerror(5));
            }
            return control.get(JAVA_INT, 16);
        }
    }

    /**
     * Sends bytes, all of them.
     *
     * @param bytes what to send
     */
    public void send(byte[] bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocateFrom(JAVA_BYTE, bytes);
            long sent = 0;
            while (sent < bytes.length) {
                MemorySegment msg = message(a, data.asSlice(sent), MemorySegment.NULL);
                sent += Syscalls.call("sendmsg(" + fd + ", " + (bytes.length - sent) + " bytes)", SENDMSG, fd, msg,
                        MSG_NOSIGNAL);
            }
        }
    }

    /**
     * Receives up to {@code into.length} bytes, waiting at most {@code timeout} for the first.
     *
     * @param into    where to put them
     * @param timeout the longest wait
     * @return how many came; 0 when the peer closed the socket
     */
    public int receive(byte[] into, Duration timeout) {
        awaitReadable(fd, timeout, "recvmsg(" + fd + ")");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment data = a.allocate(Math.max(1, into.length));
            MemorySegment msg = message(a, data, MemorySegment.NULL);
            int n = (int) Syscalls.call("recvmsg(" + fd + ")", RECVMSG, fd, msg, 0);
            MemorySegment.copy(data, JAVA_BYTE, 0, into, 0, n);
            return n;
        }
    }

    private static MemorySegment message(Arena a, MemorySegment data, MemorySegment control) {
        MemorySegment iov = a.allocate(16, 8);
        iov.set(ADDRESS, 0, data);
        iov.set(JAVA_LONG, 8, data.byteSize());
        MemorySegment msg = a.allocate(MSGHDR_BYTES, 8);
        msg.set(ADDRESS, 16, iov);
        msg.set(JAVA_LONG, 24, 1L);
        msg.set(ADDRESS, 32, control);
        msg.set(JAVA_LONG, 40, control.equals(MemorySegment.NULL) ? 0 : control.byteSize());
        return msg;
    }

    /** Closes the socket (once). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return "unix socket fd " + fd;
    }

    /** A listening socket at a path; closing it removes the path. */
    public static final class Listener implements AutoCloseable {
        private final int fd;
        private final Path path;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Listener(int fd, Path path) {
            this.fd = fd;
            this.path = path;
        }

        /** The path it listens at. */
        public Path path() {
            return path;
        }

        /**
         * Accepts one connection, waiting at most {@code timeout}.
         *
         * @param timeout the longest wait
         * @return the connected socket, close-on-exec
         * @throws NativeException ETIMEDOUT when no one connected
         */
        public UnixSocket accept(Duration timeout) {
            awaitReadable(fd, timeout, "accept(" + path + ")");
            int s = (int) Syscalls.call("accept4(" + fd + ")", ACCEPT4, fd, MemorySegment.NULL, MemorySegment.NULL,
                    SOCK_CLOEXEC);
            return new UnixSocket(s);
        }

        /** Stops listening and removes the path (once). */
        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                try {
                    Libc.close(fd);
                } finally {
                    try {
                        java.nio.file.Files.deleteIfExists(path);
                    } catch (java.io.IOException e) {
                        // the path stays; the next bind there fails with EADDRINUSE and says so
                    }
                }
            }
        }
    }
}
