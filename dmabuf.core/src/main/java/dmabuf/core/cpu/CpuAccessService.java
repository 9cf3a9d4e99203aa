package dmabuf.core.cpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.core.DmaBufCore;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.buffer.OpsContract;
import dmabuf.core.client.Client;
import dmabuf.core.client.Holding;
import dmabuf.core.file.OpenFile;

/**
 * CPU access: {@code begin/end_cpu_access} brackets (whole buffer or a byte range), {@code kmap} and
 * {@code kmap_atomic} of single pages inside a bracket, and the {@code DMA_BUF_IOCTL_SYNC} ioctl that drives the same
 * brackets through an fd.
 * <p>
 * DOC: brackets. The kernel leaves bracketing to each exporter; this core tracks it per bundle and buffer: an end
 * needs an open begin of the same bundle with the same direction and range (EINVAL otherwise), and a kmap needs an
 * open bracket that covers the page. A thread may hold at most two atomic kmaps, undone in reverse order.
 */
public final class CpuAccessService {
    /** The most atomic kmaps one thread may hold (the kernel's per-CPU kmap slots). */
    public static final int MAX_ATOMIC_KMAPS = 2;

    private record AtomicKmap(Client client, Buffer buffer, long pageIndex, MemorySegment view) {
    }

    private final DmaBufCore core;
    private final ThreadLocal<ArrayDeque<AtomicKmap>> atomicKmaps = ThreadLocal.withInitial(ArrayDeque::new);

    /** @param core the core */
    public CpuAccessService(DmaBufCore core) {
        this.core = core;
    }

    /** {@code dma_buf_begin_cpu_access}, optionally ranged. */
    public void begin(Client client, Buffer b, DmaDataDirection direction, long offset, long length) {
        Errors.checkDirection(direction, "beginCpuAccess");
        checkRange(b, offset, length);
        b.enter();
        try {
            if (b.implementsOp(OpsContract.Op.BEGIN_CPU_ACCESS)) {
                try {
                    b.ops().beginCpuAccess(b, direction, offset, length);
                } catch (Exception | LinkageError e) {
                    throw core.guard().failed(b, "beginCpuAccess", e);
                }
            }
        } finally {
            b.exit();
        }
        waitForDevices(b, direction, offset, length); // outside enter/exit: a revoke must not wait for devices
        client.holding(b).openBracket(direction, offset, length);
    }

    /**
     * Implicit sync, after the exporter's begin as in the kernel: a CPU writer waits for every fence, a reader for
     * the write fences. A failed wait ends the exporter's begin again, so a failed begin changes nothing.
     */
    private void waitForDevices(Buffer b, DmaDataDirection direction, long offset, long length) {
        dmabuf.api.sync.DmaResvUsage usage =
                dmabuf.api.sync.DmaResvUsage.forWrite(direction != DmaDataDirection.FROM_DEVICE);
        if (!core.fences().mustWait(b, usage)) {
            return;
        }
        try {
            core.fences().waitImplicit(b, usage, "beginCpuAccess(" + direction + ")");
        } catch (DmaBufException e) {
            if (b.implementsOp(OpsContract.Op.END_CPU_ACCESS) && b.state() == Buffer.State.LIVE) {
                core.guard().quietly(b, "endCpuAccess", () -> {
                    b.enter();
                    try {
                        b.ops().endCpuAccess(b, direction, offset, length);
                    } finally {
                        b.exit();
                    }
                });
            }
            throw e;
        }
    }

    /** {@code dma_buf_end_cpu_access}, optionally ranged; needs a matching begin of the same bundle. */
    public void end(Client client, Buffer b, DmaDataDirection direction, long offset, long length) {
        Errors.checkDirection(direction, "endCpuAccess");
        Holding h = client.existingHolding(b);
        if (h == null || !h.closeBracket(direction, offset, length)) {
            throw Errors.einval("endCpuAccess(" + direction + ", " + offset + ", " + length + ") on " + b
                    + " without a matching beginCpuAccess by " + client.describe() + "; open brackets: "
                    + (h == null ? "none" : h.brackets()));
        }
        if (b.state() != Buffer.State.LIVE) {
            return; // revoked: the exporter has nothing left to flush
        }
        try {
            b.enter();
        } catch (DmaBufException revokedMeanwhile) {
            return; // as above: end is a cleanup call, the bracket is closed
        }
        try {
            if (b.implementsOp(OpsContract.Op.END_CPU_ACCESS)) {
                try {
                    b.ops().endCpuAccess(b, direction, offset, length);
                } catch (Exception | LinkageError e) {
                    throw core.guard().failed(b, "endCpuAccess", e);
                }
            }
        } finally {
            b.exit();
        }
    }

    /** Closes a bracket of a bundle that went away: the exporter still gets its end, so CPU writes are flushed. */
    public void endForReclaim(Buffer b, Holding.Bracket bracket) {
        if (b.state() != Buffer.State.LIVE || !b.implementsOp(OpsContract.Op.END_CPU_ACCESS)) {
            return;
        }
        b.enter();
        try {
            b.ops().endCpuAccess(b, bracket.direction(), bracket.offset(), bracket.length());
        } catch (Exception | LinkageError e) {
            throw core.guard().failed(b, "endCpuAccess", e);
        } finally {
            b.exit();
        }
    }

    /** {@code DMA_BUF_IOCTL_SYNC} on an fd. */
    public void sync(Client client, int fd, long flags) {
        OpenFile f = client.files().get(fd);
        if ((flags & ~DmaBufUapi.DMA_BUF_SYNC_VALID_FLAGS_MASK) != 0) {
            throw Errors.einval(String.format("SYNC flags 0x%x have bits outside READ|WRITE|END (0x%x)", flags,
                    DmaBufUapi.DMA_BUF_SYNC_VALID_FLAGS_MASK));
        }
        long rw = flags & DmaBufUapi.DMA_BUF_SYNC_RW;
        if (rw == 0) {
            throw Errors.einval(String.format("SYNC flags 0x%x set neither READ nor WRITE", flags));
        }
        DmaDataDirection direction = rw == DmaBufUapi.DMA_BUF_SYNC_READ ? DmaDataDirection.FROM_DEVICE
                : rw == DmaBufUapi.DMA_BUF_SYNC_WRITE ? DmaDataDirection.TO_DEVICE : DmaDataDirection.BIDIRECTIONAL;
        Buffer b = f.buffer();
        if ((flags & DmaBufUapi.DMA_BUF_SYNC_END) != 0) {
            end(client, b, direction, 0, b.size());
        } else {
            begin(client, b, direction, 0, b.size());
        }
    }

    /** {@code dma_buf_kmap} / {@code dma_buf_kmap_atomic}. */
    public MemorySegment kmap(Client client, Buffer b, long pageIndex, boolean atomic) {
        String op = atomic ? "kmapAtomic" : "kmap";
        b.checkLive(); // a released or revoked buffer says so, rather than "outside a bracket"
        if (pageIndex < 0 || pageIndex >= b.pageCount()) {
            throw Errors.einval(op + " of page " + pageIndex + " of " + b + ", which has pages 0.."
                    + (b.pageCount() - 1));
        }
        long pageOffset = pageIndex << DmaBufUapi.PAGE_SHIFT;
        long pageLength = Math.min(DmaBufUapi.PAGE_SIZE, b.size() - pageOffset);
        Holding h = client.existingHolding(b);
        if (h == null || !h.bracketCovers(pageOffset, pageLength)) {
            throw Errors.einval(op + " of page " + pageIndex + " of " + b + " outside a CPU-access bracket of "
                    + client.describe() + ": call beginCpuAccess (covering the page) first");
        }
        if (!b.implementsOp(OpsContract.Op.KMAP)) {
            throw Errors.einval("exporter '" + b.exporterName() + "' of " + b + " has no kmap; use vmap or mmap");
        }
        ArrayDeque<AtomicKmap> held = atomic ? heldAtomicKmaps(client) : null;
        if (atomic) {
            if (held.size() >= MAX_ATOMIC_KMAPS) {
                throw Errors.error(Errno.EBUSY, "thread '" + Thread.currentThread().getName() + "' already holds "
                        + held.size() + " atomic kmaps, the most a thread may hold; kunmapAtomic one first");
            }
        }
        b.enter();
        try {
            MemorySegment page;
            try {
                page = atomic ? b.ops().kmapAtomic(b, pageIndex) : b.ops().kmap(b, pageIndex);
            } catch (Exception | LinkageError e) {
                throw core.guard().failed(b, op, e);
            }
            MemorySegment view;
            try {
                view = b.scope(page, pageLength, op);
            } catch (RuntimeException e) {
                if (page != null) {
                    core.guard().quietly(b, "kunmap",
                            () -> exporterKunmap(b, pageIndex, page, atomic));
                }
                throw e;
            }
            h.addKmap(new Holding.Kmap(pageIndex, view, page, atomic));
            if (atomic) {
                held.push(new AtomicKmap(client, b, pageIndex, view));
            }
            return view;
        } finally {
            b.exit();
        }
    }

    /** {@code dma_buf_kunmap} / {@code dma_buf_kunmap_atomic}. */
    public void kunmap(Client client, Buffer b, long pageIndex, MemorySegment page, boolean atomic) {
        String op = atomic ? "kunmapAtomic" : "kunmap";
        if (page == null) {
            throw Errors.einval(op + " needs the segment kmap returned, not null");
        }
        ArrayDeque<AtomicKmap> held = atomic ? heldAtomicKmaps(client) : null;
        if (atomic) {
            AtomicKmap top = held.peek();
            if (top == null || top.client() != client || top.buffer() != b || top.pageIndex() != pageIndex
                    || top.view().address() != page.address() || !top.view().scope().equals(page.scope())) {
                throw Errors.einval("kunmapAtomic of page " + pageIndex + " of " + b + " is not the most recent "
                        + "kmapAtomic of thread '" + Thread.currentThread().getName() + "' (undo them in reverse "
                        + "order, on the thread that mapped them)");
            }
        }
        Holding h = client.existingHolding(b);
        Holding.Kmap k = h == null ? null : h.removeKmap(pageIndex, page, atomic);
        if (k == null) {
            throw Errors.einval(op + ": page " + pageIndex + " of " + b + " is not " + (atomic ? "atomically " : "")
                    + "kmapped by " + client.describe() + " with this segment");
        }
        if (atomic) {
            held.pop();
        }
        unmapPage(b, k);
    }

    /**
     * The calling thread's atomic kmaps that can still be undone. An entry of another bundle that went away (its
     * holding was drained) or of a buffer that was released (every holding of it was forgotten) is dropped: it no
     * longer counts against the limit and no longer blocks the LIFO order. A revoked buffer's entry stays: its bundle
     * still holds the kmap and undoes it with kunmapAtomic, a cleanup call that succeeds on a revoked buffer. So do
     * the caller's own entries while its bundle is being stopped: this call got in before the stop, and the reclaim
     * waits for it.
     */
    private ArrayDeque<AtomicKmap> heldAtomicKmaps(Client caller) {
        ArrayDeque<AtomicKmap> held = atomicKmaps.get();
        held.removeIf(k -> (k.client() != caller && k.client().isClosed())
                || k.buffer().state() == Buffer.State.RELEASED);
        return held;
    }

    /** Gives a kmapped page back to the exporter, unless the buffer was already torn down. */
    public void unmapPage(Buffer b, Holding.Kmap k) {
        if (b.state() != Buffer.State.LIVE) {
            return;
        }
        try {
            b.enter();
        } catch (RuntimeException revokedMeanwhile) {
            return;
        }
        try {
            exporterKunmap(b, k.pageIndex(), k.exporterSegment(), k.atomic());
        } catch (Exception | LinkageError e) {
            throw core.guard().failed(b, k.atomic() ? "kunmapAtomic" : "kunmap", e);
        } finally {
            b.exit();
        }
    }

    private static void exporterKunmap(Buffer b, long pageIndex, MemorySegment page, boolean atomic) {
        if (atomic) {
            b.ops().kunmapAtomic(b, pageIndex, page);
        } else {
            b.ops().kunmap(b, pageIndex, page);
        }
    }


    private static void checkRange(Buffer b, long offset, long length) {
        if (offset < 0 || length <= 0 || offset > b.size() - length) {
            throw Errors.einval("CPU access range [" + offset + ", +" + length + ") is not within " + b);
        }
    }
}
