package dmabuf.api.udmabuf;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.DmaBufRegistry;

/**
 * The udmabuf device ({@code /dev/udmabuf}): turns memfd ranges into dma-bufs. The buffer is exported by the
 * udmabuf bundle; the new fd is installed in the caller's own file table, so the caller passes its own registry
 * (the bundle-scoped instance it got), as a process passes the fd table it owns to the ioctl. See the package
 * documentation for the rules and their errnos.
 */
@ProviderType
public interface Udmabuf {
    /** {@code UDMABUF_FLAGS_CLOEXEC}: the new fd gets close-on-exec. */
    int UDMABUF_FLAGS_CLOEXEC = 0x01;

    /**
     * {@code UDMABUF_CREATE}: a dma-buf of one memfd range.
     *
     * @param caller the calling bundle's registry, where the fd is installed
     * @param range  the range
     * @param flags  0 or {@link #UDMABUF_FLAGS_CLOEXEC}
     * @return the new fd in the caller's table; the buffer is read-write
     * @throws dmabuf.api.DmaBufException with the errno the package documentation gives for each rule
     */
    int create(DmaBufRegistry caller, UdmabufRange range, int flags);

    /**
     * {@code UDMABUF_CREATE_LIST}: a dma-buf of several ranges, one after the other, of one or more memfds. Every
     * range follows the rules of {@link #create}; the limit applies to the sum; an empty list or more ranges than
     * the configured list limit is {@link dmabuf.api.Errno#EINVAL}.
     *
     * @param caller the calling bundle's registry, where the fd is installed
     * @param ranges the ranges in buffer order
     * @param flags  0 or {@link #UDMABUF_FLAGS_CLOEXEC}
     * @return the new fd in the caller's table
     */
    int createList(DmaBufRegistry caller, List<UdmabufRange> ranges, int flags);
}
