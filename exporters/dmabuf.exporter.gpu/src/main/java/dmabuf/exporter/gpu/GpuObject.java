package dmabuf.exporter.gpu;

import java.util.List;

import dmabuf.api.Device;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.memory.PageAllocation;
import dmabuf.exporter.gpu.api.CacheDomain;
import dmabuf.exporter.gpu.api.ObjectInfo;
import dmabuf.exporter.gpu.api.Residency;

/**
 * A buffer object (the kernel's {@code drm_gem_object}): its size, its storage once placed, its cache domain and its
 * counters, and the dma-buf exported from it ({@link PrimeBuffer}), if any.
 * <p>
 * <b>Locking.</b> Every field is guarded by this object's monitor, which the {@link PrimeBuffer} ops take too. Lock
 * order: the core's buffer lock (held around map, unmap, pin, unpin, vmap, vunmap), then this monitor, then the
 * device's pool lock. Nothing here calls the registry while holding the monitor.
 * <p>
 * <b>Life.</b> The object lives while its handle is open or its dma-buf is alive; when both are gone it
 * {@link #dieLocked dies}: the storage goes back to its pool, exactly once.
 */
final class GpuObject {
    private final GpuDevice device;
    private final int handle;
    private final long size;

    private boolean handleOpen = true;
    private boolean dead;
    /** The live dma-buf exported from this object (PRIME's cache), cleared by its release. */
    private PrimeBuffer export;
    /**
     * The export whose first reference the GPU holds, until the handle is closed. Outlives {@link #export} when the
     * buffer is revoked: a revoked buffer's references stay counted until they are put.
     */
    private PrimeBuffer held;
    private PageAllocation storage;
    private Residency placement = Residency.UNPLACED;
    private CacheDomain domain = CacheDomain.CPU;
    /** The GPU or a device wrote since the CPU last invalidated: the next begin of CPU access invalidates. */
    private boolean gpuWritesPending;
    private long flushes;
    private long invalidates;
    private long migrations;

    GpuObject(GpuDevice device, int handle, long size) {
        this.device = device;
        this.handle = handle;
        this.size = size;
    }

    long size() {
        return size;
    }

    GpuDevice device() {
        return device;
    }

    /** {@code object 3 (64 KiB) of GPU 'gpu0'}, for messages. */
    String label() {
        return "object " + handle + " (" + GpuDevice.bytes(size) + ") of GPU '" + device.name() + "'";
    }

    @Override
    public String toString() {
        return label();
    }

    // ---- handle and export (called by GpuDevice under its handle lock) -----------------------------------------

    /** The live export, or null. */
    synchronized PrimeBuffer export() {
        return export;
    }

    synchronized void setExport(PrimeBuffer pb) {
        this.export = pb;
    }

    /** Export returned: the GPU holds the buffer's first reference. */
    synchronized void holdReference(PrimeBuffer pb) {
        this.held = pb;
    }

    /** Gives up the GPU's reference: the export whose reference the caller must put, or null. */
    synchronized PrimeBuffer takeReference() {
        PrimeBuffer pb = held;
        held = null;
        return pb;
    }

    /**
     * The handle was closed. If no dma-buf lives, the object dies now.
     *
     * @return the export whose reference the GPU held and the caller must now put, or null
     */
    synchronized PrimeBuffer closeHandle() {
        handleOpen = false;
        if (export == null) {
            dieLocked();
        }
        return takeReference();
    }

    /** The export's release ran: forget it, and die if the handle is closed too. */
    void exportReleased(PrimeBuffer pb) {
        assert Thread.holdsLock(this);
        if (export == pb) {
            export = null;
        }
        if (!handleOpen && export == null) {
            dieLocked();
        }
    }

    /** Frees the storage (exactly once) and tells the device the object is gone. */
    private void dieLocked() {
        if (dead) {
            return;
        }
        dead = true;
        if (storage != null) {
            PageAllocation s = storage;
            storage = null;
            device.free(s);
        }
        device.forget(this);
    }

    /** At shutdown, for an object whose release never came: free the storage anyway (views may be stale). */
    synchronized void forceDie() {
        dieLocked();
    }

    // ---- placement ------------------------------------------------------------------------------------------

    /**
     * The storage, placed now if it was not ({@code why} says for what, in the debug message): VRAM when every
     * attached device can use the VRAM pages, else system memory.
     *
     * @throws DmaBufException {@link Errno#ENOMEM} when neither pool can hold the object, {@link Errno#ENODEV} once
     *         the object died
     */
    PageAllocation placeLocked(String why) {
        assert Thread.holdsLock(this);
        if (storage != null) {
            return storage;
        }
        if (dead) {
            throw new DmaBufException(Errno.ENODEV, label() + " was destroyed");
        }
        List<Device> devices = export == null ? List.of() : export.devicesLocked();
        String vramProblem = null;
        for (Device d : devices) {
            if (!device.reachesVram(d)) {
                vramProblem = "device '" + d.name() + "' (DMA mask " + GpuDevice.hex(d.dmaMask())
                        + ") cannot reach VRAM, which ends at " + GpuDevice.hex(device.vramHighest());
                break;
            }
        }
        if (vramProblem == null) {
            PageAllocation vram;
            try {
                vram = device.allocate(Residency.VRAM, size);
            } catch (DmaBufException full) {
                vram = null;
                vramProblem = full.getMessage();
            }
            if (vram != null) {
                for (Device d : devices) {
                    String why2 = vram.unusableBy(d);
                    if (why2 != null) {
                        vramProblem = why2;
                        device.free(vram);
                        vram = null;
                        break;
                    }
                }
            }
            if (vram != null) {
                storage = vram;
                placement = Residency.VRAM;
                domain = CacheDomain.CPU; // freshly zeroed by the CPU
                device.log().debug(label() + " placed in VRAM for " + why);
                return storage;
            }
        }
        storage = device.allocate(Residency.SYSTEM, size); // ENOMEM passes on: nowhere to put it
        placement = Residency.SYSTEM;
        domain = CacheDomain.CPU;
        device.log().debug(label() + " placed in system memory for " + why + ": " + vramProblem);
        return storage;
    }

    Residency placementLocked() {
        assert Thread.holdsLock(this);
        return placement;
    }

    PageAllocation storageLocked() {
        assert Thread.holdsLock(this);
        return storage;
    }

    /**
     * Moves the storage to {@code target} (system memory), copying every page: the one place this driver copies
     * bytes, because the memory itself changes (a GPU's copy engine does the same when it evicts VRAM). The old
     * storage is freed, or handed to {@code retire} when CPU views of it were handed out: the core keeps those
     * views valid until the buffer's release, so their memory must stay allocated until then.
     *
     * @param target the new storage, as big as the old
     * @param retire where the old storage goes when it must outlive the move, or null to free it now
     */
    void migrateLocked(PageAllocation target, List<PageAllocation> retire) {
        assert Thread.holdsLock(this);
        PageAllocation source = storage;
        long pages = size >>> DmaBufUapi.PAGE_SHIFT;
        for (long i = 0; i < pages; i++) {
            target.page(i).copyFrom(source.page(i));
        }
        storage = target;
        placement = Residency.SYSTEM;
        migrations++;
        if (retire != null) {
            retire.add(source);
        } else {
            device.free(source);
        }
    }

    // ---- cache domains ----------------------------------------------------------------------------------------

    /** A device or the GPU may write the object now: it is in the GPU domain with writes pending. */
    void gpuWritesLocked() {
        assert Thread.holdsLock(this);
        domain = CacheDomain.GPU;
        gpuWritesPending = true;
    }

    /** A device reads the object: GPU domain. */
    void gpuReadsLocked() {
        assert Thread.holdsLock(this);
        domain = CacheDomain.GPU;
    }

    /** The CPU starts accessing: invalidate its caches if the GPU wrote since the last time. */
    void beginCpuLocked() {
        assert Thread.holdsLock(this);
        if (gpuWritesPending) {
            invalidates++;
            gpuWritesPending = false;
        }
        domain = CacheDomain.CPU;
    }

    /**
     * The CPU ends an access: flush what it wrote, and hand the object back to the GPU when no access is open.
     *
     * @param wrote      true when the access was for writing (TO_DEVICE or BIDIRECTIONAL)
     * @param stillOpen  CPU accesses still open on the object
     */
    void endCpuLocked(boolean wrote, int stillOpen) {
        assert Thread.holdsLock(this);
        if (wrote) {
            flushes++;
        }
        if (stillOpen == 0) {
            domain = CacheDomain.GPU;
        }
    }

    // ---- the Gpu API --------------------------------------------------------------------------------------------

    /** The blitter fills a range: placed if needed, GPU domain, writes pending. */
    synchronized void gpuFill(long offset, long length, byte value) {
        if (offset < 0 || length <= 0 || offset > size - length) {
            throw new DmaBufException(Errno.EINVAL, "gpuFill range [" + offset + ", +" + length + ") is not within "
                    + label());
        }
        PageAllocation s = placeLocked("a GPU write");
        long end = offset + length;
        for (long pos = offset; pos < end;) {
            long page = pos >>> DmaBufUapi.PAGE_SHIFT;
            long inPage = pos & (DmaBufUapi.PAGE_SIZE - 1);
            long n = Math.min(DmaBufUapi.PAGE_SIZE - inPage, end - pos);
            s.page(page).asSlice(inPage, n).fill(value);
            pos += n;
        }
        gpuWritesLocked();
    }

    synchronized ObjectInfo info() {
        PrimeBuffer pb = export;
        return new ObjectInfo(handle, size, placement, domain, flushes, invalidates,
                pb == null ? 0 : pb.pinsLocked(), pb != null, pb == null ? 0 : pb.attachmentCountLocked(),
                pb == null ? 0 : pb.tablesLocked(), migrations);
    }
}
