/**
 * Linux system calls for sharing memory with other processes, through the FFM API with {@code errno} captured.
 *
 * <h2>DOC: what is here</h2>
 * {@link dmabuf.os.Libc}: memfd files and their seals, {@code mmap}/{@code munmap}, {@code dup}, {@code close},
 * {@code fstat}, {@code open} and {@code ioctl}. {@link dmabuf.os.MappedRegion}: a shared mapping of one or more file
 * ranges as a {@link java.lang.foreign.MemorySegment} unmapped exactly once when its arena closes.
 * {@link dmabuf.os.UnixSocket}: Unix domain stream sockets that pass file descriptors ({@code SCM_RIGHTS}), so a
 * buffer can reach a native process as a real fd and come back.
 *
 * <h2>DOC: failures and availability</h2>
 * A failing call throws {@link dmabuf.os.NativeException} with the errno Linux gave and its {@code strerror} text.
 * On anything but Linux on x86-64, arm64 or riscv64 (or without native access), {@link dmabuf.os.Libc#available()}
 * is false, {@link dmabuf.os.Libc#unavailableReason()} says why, and every call throws
 * {@link java.lang.UnsupportedOperationException}: bundles using this package report themselves unavailable and
 * nothing else breaks. The JVM should run with {@code --enable-native-access=ALL-UNNAMED} (bundle code lives in
 * unnamed modules); without it the calls still work after a warning.
 */
@Version("1.0.0")
@Export
package dmabuf.os;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
