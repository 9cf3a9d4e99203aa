package dmabuf.core.mmap;

import java.lang.foreign.MemorySegment;

import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.VmArea;
import dmabuf.core.DmaBufCore;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.buffer.OpsContract;
import dmabuf.core.client.Client;
import dmabuf.core.file.OpenFile;

/**
 * {@code mmap} of a dma-buf fd and {@code dma_buf_mmap} for importers forwarding their own mmap.
 * <p>
 * DOC: mmap. The range is checked before the exporter sees it: page-aligned offset, positive length rounded up to
 * pages, no wrap-around (EOVERFLOW), no page past the last whole page of the buffer (EINVAL), access allowed by the
 * fd (EACCES). The exporter's segment is re-scoped to the buffer at exactly the mapping's length, so a mapping never
 * grows and never outlives the buffer's storage. A mapping holds a reference, like a real VMA holds the file.
 */
public final class MmapService {
    private static final int PROT_RW = DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE;

    private final DmaBufCore core;

    /** @param core the core */
    public MmapService(DmaBufCore core) {
        this.core = core;
    }

    /** {@code mmap(2)} on one of the client's fds. */
    public Mapping mmap(Client client, int fd, long offset, long length, int prot) {
        OpenFile f = client.files().get(fd);
        checkProt(prot);
        if (!f.readable()) {
            throw Errors.error(Errno.EACCES, "fd " + fd + " is write-only; a mapping needs read access");
        }
        if ((prot & DmaBufUapi.PROT_WRITE) != 0 && !f.writable()) {
            throw Errors.error(Errno.EACCES, "PROT_WRITE mapping of fd " + fd + ", which is not open for writing");
        }
        if ((offset & (DmaBufUapi.PAGE_SIZE - 1)) != 0) {
            throw Errors.einval("mmap offset " + offset + " is not a multiple of the page size "
                    + DmaBufUapi.PAGE_SIZE);
        }
        if (length <= 0) {
            throw Errors.einval("mmap length must be positive, not " + length);
        }
        long rounded = Errors.pageAlign(length);
        if (Long.compareUnsigned(rounded, length) < 0 || Long.compareUnsigned(offset + rounded, offset) < 0) {
            throw Errors.error(Errno.EOVERFLOW, String.format("mmap of 0x%x bytes at offset 0x%x wraps around",
                    length, offset));
        }
        return map(client, f.buffer(), new VmArea(offset >>> DmaBufUapi.PAGE_SHIFT, rounded, prot));
    }

    /** {@code dma_buf_mmap}: an importer forwards a mapping request to the buffer. */
    public Mapping mmap(Client client, Buffer b, VmArea vma) {
        if (vma == null) {
            throw Errors.einval("dma_buf_mmap needs a VmArea, not null");
        }
        checkProt(vma.prot());
        if (vma.length() <= 0 || (vma.length() & (DmaBufUapi.PAGE_SIZE - 1)) != 0) {
            throw Errors.einval("VmArea length " + vma.length() + " is not a positive multiple of the page size");
        }
        if ((vma.prot() & DmaBufUapi.PROT_WRITE) != 0
                && (b.exportFlags() & DmaBufUapi.O_ACCMODE) == DmaBufUapi.O_RDONLY) {
            throw Errors.error(Errno.EACCES, "PROT_WRITE mapping of " + b + ", which was exported read-only");
        }
        return map(client, b, vma);
    }

    private Mapping map(Client client, Buffer b, VmArea vma) {
        long pages = vma.pageCount();
        long end = vma.pageOffset() + pages;
        if (Long.compareUnsigned(end, vma.pageOffset()) < 0) {
            throw Errors.error(Errno.EOVERFLOW, "page offset " + Long.toUnsignedString(vma.pageOffset()) + " plus "
                    + pages + " pages wraps around");
        }
        long wholePages = b.size() >>> DmaBufUapi.PAGE_SHIFT;
        if (Long.compareUnsigned(end, wholePages) > 0) {
            throw Errors.einval("mmap of pages [" + Long.toUnsignedString(vma.pageOffset()) + ", "
                    + Long.toUnsignedString(end) + ") reaches past the end of " + b + ", which has " + wholePages
                    + " whole page(s)");
        }
        if (!b.implementsOp(OpsContract.Op.MMAP)) {
            throw Errors.einval("exporter '" + b.exporterName() + "' of " + b + " has no mmap");
        }
        b.getRef(); // the mapping keeps the buffer alive, as a VMA keeps its file
        boolean done = false;
        try {
            b.enter();
            try {
                MemorySegment exported;
                try {
                    exported = b.ops().mmap(b, vma);
                } catch (Exception | LinkageError e) {
                    throw core.guard().failed(b, "mmap", e);
                }
                MemorySegment view = b.scope(exported, vma.length(), "mmap");
                if (!vma.writable()) {
                    view = view.asReadOnly();
                }
                Mapping m = new Mapping(this, client, b, view, vma.offset(), vma.prot());
                client.mmaps().add(m);
                done = true;
                core.changed();
                return m;
            } finally {
                b.exit();
            }
        } finally {
            if (!done) {
                core.lifecycle().dropRef(b);
            }
        }
    }

    /** A mapping was closed: forget it and drop its reference. */
    void unmapped(Mapping m) {
        m.client().mmaps().remove(m);
        core.lifecycle().dropRef(m.buffer());
        core.changed();
    }

    private static void checkProt(int prot) {
        if ((prot & ~PROT_RW) != 0 || prot == 0) {
            throw Errors.einval("mmap prot " + prot + " must be PROT_READ, optionally with PROT_WRITE (a "
                    + "MemorySegment cannot be made inaccessible, so PROT_NONE is not supported)");
        }
        if ((prot & DmaBufUapi.PROT_READ) == 0) {
            throw Errors.einval("mmap prot PROT_WRITE needs PROT_READ too: a mapping is always readable");
        }
    }
}
