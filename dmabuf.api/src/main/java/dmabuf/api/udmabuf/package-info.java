/**
 * udmabuf: dma-bufs made from memory another process (or this one) put in a memfd, as the kernel's
 * {@code /dev/udmabuf}.
 *
 * <h2>DOC: the rules (the kernel's udmabuf_create)</h2>
 * A range is {@code size} bytes of a memfd from {@code offset}. The service refuses with
 * {@link dmabuf.api.Errno#EINVAL} an offset or size that is not page-aligned, a size of 0, a buffer larger than the
 * configured limit, a range reaching past the end of the file, flags other than
 * {@link dmabuf.api.udmabuf.Udmabuf#UDMABUF_FLAGS_CLOEXEC}, and a memfd without {@code F_SEAL_SHRINK} (the pages
 * could vanish under a device) or with {@code F_SEAL_WRITE} / {@code F_SEAL_FUTURE_WRITE} (the buffer is writable);
 * with {@link dmabuf.api.Errno#EBADFD} an fd that is not a memfd; with {@link dmabuf.api.Errno#EBADF} an fd that is
 * not open. Seals are checked and the range mapped under one critical section, and checked again once the mapping
 * exists, so a seal added meanwhile cannot slip in.
 *
 * <h2>DOC: what the buffer is</h2>
 * The buffer's pages are the memfd's pages, shared, never copied: what the process writes into the memfd, importers
 * read, and back. The buffer keeps its own mapping, so the caller may close its memfd at once. The list form puts
 * several ranges of one or more memfds one after the other into one buffer.
 */
@Version("1.0.0")
@Export
package dmabuf.api.udmabuf;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
