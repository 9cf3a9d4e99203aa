package dmabuf.api;

/**
 * The part of a buffer a CPU mapping covers, as the fields of the kernel's {@code vm_area_struct} an exporter's
 * {@code mmap} looks at. The core has already checked it against the buffer's size when the exporter sees it.
 *
 * @param pageOffset the first page of the buffer the mapping shows ({@code vm_pgoff}), treated as unsigned
 * @param length     the mapping's length in bytes, a positive multiple of {@link DmaBufUapi#PAGE_SIZE}
 * @param prot       {@link DmaBufUapi#PROT_READ}, optionally with {@link DmaBufUapi#PROT_WRITE}
 */
public record VmArea(long pageOffset, long length, int prot) {

    /** The byte offset in the buffer at which the mapping starts. */
    public long offset() {
        return pageOffset << DmaBufUapi.PAGE_SHIFT;
    }

    /** The number of pages the mapping covers. */
    public long pageCount() {
        return length >>> DmaBufUapi.PAGE_SHIFT;
    }

    /** True when the mapping may be written. */
    public boolean writable() {
        return (prot & DmaBufUapi.PROT_WRITE) != 0;
    }
}
