package dmabuf.exporter.scanout;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import dmabuf.api.memory.PageAllocation;

/**
 * A dumb buffer's GEM object: the storage (one contiguous page run) and who keeps it alive. It has a reference for
 * its handle (from CREATE_DUMB to DESTROY_DUMB) and one for its exported dma-buf (from export to the dma-buf's
 * release), as the kernel's dma-buf holds a reference on its GEM object; the storage is freed when both are gone.
 * <p>
 * The reference count is atomic so the core's release can drop a reference from any thread without a lock; the
 * export state is guarded by this object's monitor.
 */
final class DumbObject {
    private final int handle;
    private final DumbLayout layout;
    private final PageAllocation allocation;
    private final Consumer<DumbObject> onFree;
    private final AtomicInteger refs = new AtomicInteger(1);

    // Guarded by this.
    private ScanoutOps exported;
    private boolean handleClosed;
    private long offsetPage;

    /**
     * @param handle     the handle it was created under
     * @param layout     its pitch and size
     * @param allocation its storage, exactly {@code layout.size()} bytes
     * @param onFree     told after the storage went back to the pool
     */
    DumbObject(int handle, DumbLayout layout, PageAllocation allocation, Consumer<DumbObject> onFree) {
        this.handle = handle;
        this.layout = layout;
        this.allocation = allocation;
        this.onFree = onFree;
    }

    int handle() {
        return handle;
    }

    DumbLayout layout() {
        return layout;
    }

    PageAllocation allocation() {
        return allocation;
    }

    /** A reference for a new dma-buf. Only while another reference (the handle's) is held. */
    void ref() {
        if (refs.getAndIncrement() <= 0) {
            throw new IllegalStateException("dumb buffer " + handle + " was referenced after its storage was freed");
        }
    }

    /** Drops a reference; the last one frees the storage. */
    void unref() {
        int left = refs.decrementAndGet();
        if (left == 0) {
            allocation.close();
            onFree.accept(this);
        } else if (left < 0) {
            throw new IllegalStateException("dumb buffer " + handle + " lost more references than it had");
        }
    }

    /** The references held now: 1 for the handle, 1 for a live dma-buf. */
    int refs() {
        return refs.get();
    }

    /** The ops of the current export, or null. */
    synchronized ScanoutOps exported() {
        return exported;
    }

    synchronized void setExported(ScanoutOps ops) {
        this.exported = ops;
    }

    /** Closes the handle: no export after this. Returns the current export, which the caller must put. */
    synchronized ScanoutOps closeHandle() {
        handleClosed = true;
        ScanoutOps ops = exported;
        exported = null;
        return ops;
    }

    synchronized boolean isHandleClosed() {
        return handleClosed;
    }

    /** The fake mmap offset in pages, 0 before MAP_DUMB. */
    synchronized long offsetPage() {
        return offsetPage;
    }

    synchronized void setOffsetPage(long page) {
        this.offsetPage = page;
    }

    @Override
    public String toString() {
        return "dumb buffer " + handle + " (" + layout.width() + "x" + layout.height() + "x" + layout.bpp() + ", "
                + layout.size() + " bytes)";
    }
}
