package dmabuf.api.udmabuf;

/**
 * One range of a memfd for {@link Udmabuf}, as the kernel's {@code struct udmabuf_create_item}.
 *
 * @param memfd  an OS file descriptor of this process, a memfd sealed against shrinking and not against writing
 * @param offset the first byte, page-aligned
 * @param size   the length in bytes, page-aligned and positive
 */
public record UdmabufRange(int memfd, long offset, long size) {
}
