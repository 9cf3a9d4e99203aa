package dmabuf.exporter.gpu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.api.memory.PageAllocation;
import dmabuf.exporter.gpu.api.Residency;

/**
 * The ops of one dma-buf exported from a {@link GpuObject} with PRIME (the kernel's {@code dmabuf->priv}): a
 * <em>dynamic</em> exporter (pin/unpin) whose storage is placed at first use and may move to system memory when a
 * device that cannot reach VRAM attaches.
 * <p>
 * State per export (attachments, mapped tables, pins, vmap, kmaps, mmap, open CPU accesses) lives here; storage,
 * domain and counters live in the object. All of it is guarded by the object's monitor.
 * <p>
 * DOC: the rules.
 * <ul>
 * <li><b>attach</b> of a device while the storage is unplaced: accepted if the device reaches the system-memory pool
 * (the fallback placement), else EBUSY. While placed: accepted if the device can use the pages
 * ({@link PageAllocation#unusableBy}). In VRAM and not usable: the object migrates to system memory if nothing pins
 * or maps it (dynamic importers are told first with {@code invalidateMappings}), else EBUSY naming what holds it. In
 * system memory and not usable: EBUSY with the reason.</li>
 * <li><b>map</b> places the storage (VRAM if every attached device can use it) and returns
 * {@link PageAllocation#sgTable}; a device that cannot use the placed storage is EBUSY.</li>
 * <li><b>vmap</b>, <b>kmap</b>, <b>mmap</b> and <b>begin CPU access</b> place the storage too. vmap and mmap show
 * {@link PageAllocation#contiguousView} (EOPNOTSUPP where scattered pages cannot be aliased); kmap shows
 * {@link PageAllocation#page}.</li>
 * <li><b>pin</b> keeps the storage where it is: migration is EBUSY while any pin is held. Pinning does not place.</li>
 * <li><b>release</b> frees the storage once the object's handle is closed too (the object dies), and frees storage
 * a migration retired.</li>
 * </ul>
 */
final class PrimeBuffer implements DmaBufOps {
    /** How often an attach re-evaluates when the storage moved under it while importers were being told. */
    private static final int MIGRATION_ATTEMPTS = 4;

    private final GpuObject obj;
    private volatile DmaBuf buffer;

    // Guarded by obj's monitor.
    private final Set<DmaBufAttachment> attachments = Collections.newSetFromMap(new IdentityHashMap<>());
    private int tables;
    private int pins;
    private boolean vmapped;
    private int kmaps;
    private boolean mmapped;
    private int cpuAccesses;
    /** CPU views of the current storage were handed out; the core keeps them valid until release. */
    private boolean viewsIssued;
    /** Storage a migration moved away from while CPU views of it existed: freed at release. */
    private final List<PageAllocation> retired = new ArrayList<>(1);
    private boolean released;

    PrimeBuffer(GpuObject obj) {
        this.obj = obj;
    }

    /** Records the buffer the core made (after export returned). */
    void exportedAs(DmaBuf dmaBuf) {
        this.buffer = dmaBuf;
    }

    DmaBuf buffer() {
        return buffer;
    }

    boolean isReleased() {
        synchronized (obj) {
            return released;
        }
    }

    // ---- for GpuObject (monitor held) ---------------------------------------------------------------------------

    List<Device> devicesLocked() {
        List<Device> out = new ArrayList<>(attachments.size());
        for (DmaBufAttachment a : attachments) {
            out.add(a.device());
        }
        return out;
    }

    int pinsLocked() {
        return pins;
    }

    int tablesLocked() {
        return tables;
    }

    int attachmentCountLocked() {
        return attachments.size();
    }

    // ---- mandatory ops ------------------------------------------------------------------------------------------

    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        Device d = attachment.device();
        synchronized (obj) {
            PageAllocation s = obj.placeLocked("a map for device '" + d.name() + "'");
            String why = s.unusableBy(d);
            if (why != null) {
                throw new DmaBufException(Errno.EBUSY, "device '" + d.name() + "' cannot use " + obj.label() + " in "
                        + where() + ": " + why);
            }
            SgTable table = s.sgTable(d);
            tables++;
            if (direction.deviceWrites()) {
                obj.gpuWritesLocked();
            } else {
                obj.gpuReadsLocked();
            }
            return table;
        }
    }

    @Override
    public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        synchronized (obj) {
            if (tables > 0) {
                tables--;
            }
        }
    }

    @Override
    public void release(DmaBuf dmaBuf) {
        synchronized (obj) {
            if (released) {
                throw new IllegalStateException("release ran twice for the dma-buf of " + obj.label());
            }
            released = true;
            attachments.clear();
            for (PageAllocation r : retired) {
                obj.device().free(r);
            }
            retired.clear();
            obj.exportReleased(this);
        }
    }

    // ---- attach and migration -----------------------------------------------------------------------------------

    @Override
    public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        Device d = attachment.device();
        for (int attempt = 1;; attempt++) {
            PageAllocation source;
            PageAllocation target;
            synchronized (obj) {
                PageAllocation s = obj.storageLocked();
                if (s == null) {
                    if (!obj.device().reachesSystem(d)) {
                        throw new DmaBufException(Errno.EBUSY, "device '" + d.name() + "' (DMA mask "
                                + GpuDevice.hex(d.dmaMask()) + ") cannot reach the system memory of GPU '"
                                + obj.device().name() + "' (up to " + GpuDevice.hex(obj.device().systemHighest())
                                + "), where " + obj.label() + " goes when VRAM does not suit every device");
                    }
                    attachments.add(attachment); // placement is deferred to the first use: this device counts
                    return;
                }
                String why = s.unusableBy(d);
                if (why == null) {
                    attachments.add(attachment);
                    return;
                }
                if (obj.placementLocked() != Residency.VRAM) {
                    throw new DmaBufException(Errno.EBUSY, "device '" + d.name() + "' cannot use " + obj.label()
                            + " in system memory: " + why);
                }
                String busy = migrationBlockerLocked();
                if (busy != null) {
                    throw new DmaBufException(Errno.EBUSY, "device '" + d.name() + "' cannot use " + obj.label()
                            + " in VRAM (" + why + ") and it cannot move to system memory now: " + busy);
                }
                target = obj.device().allocate(Residency.SYSTEM, obj.size()); // ENOMEM passes on
                String unusable = unusableByAny(target, d);
                if (unusable != null) {
                    obj.device().free(target);
                    throw new DmaBufException(Errno.EBUSY, "device '" + d.name() + "' cannot use " + obj.label()
                            + " in VRAM (" + why + "), and system memory does not suit every device either: "
                            + unusable);
                }
                source = s;
            }
            // Tell dynamic importers before the memory moves; they may unmap from the callback, so no lock is held.
            try {
                obj.device().registry().invalidateMappings(dmaBuf);
            } catch (RuntimeException e) {
                obj.device().free(target);
                throw e;
            }
            synchronized (obj) {
                if (obj.storageLocked() != source) {
                    obj.device().free(target); // another attach moved it meanwhile: look again
                    if (attempt < MIGRATION_ATTEMPTS) {
                        continue;
                    }
                    throw new DmaBufException(Errno.EBUSY, obj.label() + " kept moving while device '" + d.name()
                            + "' attached; try again");
                }
                String busy = migrationBlockerLocked();
                if (busy != null || released) {
                    obj.device().free(target);
                    throw new DmaBufException(Errno.EBUSY, obj.label() + " could not move to system memory for "
                            + "device '" + d.name() + "': " + (released ? "its dma-buf was released" : busy)
                            + " while its importers were being told");
                }
                obj.migrateLocked(target, viewsIssued ? retired : null);
                viewsIssued = false;
                attachments.add(attachment);
            }
            obj.device().log().info(obj.label() + " migrated from VRAM to system memory for device '" + d.name()
                    + "' (DMA mask " + GpuDevice.hex(d.dmaMask()) + ")");
            return;
        }
    }

    /** Why the storage cannot move now, or null: pinned or mapped in any way. */
    private String migrationBlockerLocked() {
        if (pins > 0) {
            return "it is pinned (" + pins + " pin(s), by static importers or dma_buf_pin)";
        }
        if (tables > 0) {
            return tables + " scatter-gather table(s) are mapped for attached devices";
        }
        if (vmapped) {
            return "it is vmapped";
        }
        if (kmaps > 0) {
            return kmaps + " page(s) are kmapped";
        }
        if (mmapped) {
            return "it was mmapped (an mmap has no unmap hook, so an mmapped buffer never moves)";
        }
        return null;
    }

    private String unusableByAny(PageAllocation target, Device newcomer) {
        String why = target.unusableBy(newcomer);
        if (why != null) {
            return why;
        }
        for (DmaBufAttachment a : attachments) {
            why = target.unusableBy(a.device());
            if (why != null) {
                return why;
            }
        }
        return null;
    }

    @Override
    public void detach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        synchronized (obj) {
            attachments.remove(attachment);
        }
    }

    // ---- dynamic exporter ---------------------------------------------------------------------------------------

    @Override
    public void pin(DmaBufAttachment attachment) {
        synchronized (obj) {
            pins++;
        }
    }

    @Override
    public void unpin(DmaBufAttachment attachment) {
        synchronized (obj) {
            if (pins > 0) {
                pins--;
            }
        }
    }

    // ---- CPU access ---------------------------------------------------------------------------------------------

    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        synchronized (obj) {
            obj.placeLocked("CPU access");
            cpuAccesses++;
            obj.beginCpuLocked();
        }
    }

    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        synchronized (obj) {
            if (cpuAccesses > 0) {
                cpuAccesses--;
            }
            // The direction names what the device does next: TO_DEVICE and BIDIRECTIONAL mean the CPU wrote.
            obj.endCpuLocked(direction.deviceReads(), cpuAccesses);
        }
    }

    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        synchronized (obj) {
            MemorySegment page = obj.placeLocked("kmap").page(pageIndex);
            kmaps++;
            viewsIssued = true;
            return page;
        }
    }

    @Override
    public void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        synchronized (obj) {
            if (kmaps > 0) {
                kmaps--;
            }
        }
    }

    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        synchronized (obj) {
            MemorySegment view = obj.placeLocked("vmap").contiguousView(); // EOPNOTSUPP passes on
            vmapped = true;
            viewsIssued = true;
            return view;
        }
    }

    @Override
    public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
        synchronized (obj) {
            vmapped = false;
        }
    }

    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        synchronized (obj) {
            MemorySegment view = obj.placeLocked("mmap").contiguousView().asSlice(vma.offset(), vma.length());
            mmapped = true;
            viewsIssued = true;
            return view;
        }
    }

    private String where() {
        return obj.placementLocked() == Residency.VRAM ? "VRAM" : "system memory";
    }
}
