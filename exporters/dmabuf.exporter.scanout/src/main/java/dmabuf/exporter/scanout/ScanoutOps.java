package dmabuf.exporter.scanout;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.exporter.scanout.OpsCounters.Op;

/**
 * The ops of one exported dumb buffer (the kernel's {@code drm_gem_prime_dmabuf_ops} with a DMA-helper GEM object as
 * {@code dmabuf->priv}): the storage is one contiguous run of the device's pool, so every device that can reach it
 * gets one segment; CPU views are the run's pages, which the core re-scopes to the buffer.
 * <p>
 * Implements map, unmap, release, attach (refusing a device the run does not suit), detach, begin/end CPU access,
 * kmap, vmap and mmap. The memory is treated as write-combined framebuffer memory, as the kernel's DMA helpers map
 * it: CPU access needs no cache maintenance, so begin/end only count. Every op is counted.
 */
final class ScanoutOps implements DmaBufOps {
    private final String deviceName;
    private final DumbObject object;
    private final OpsCounters deviceCounters;
    private final Consumer<ScanoutOps> onRelease;
    private final OpsCounters counters = new OpsCounters();
    private final AtomicBoolean released = new AtomicBoolean();
    private final AtomicBoolean devicePut = new AtomicBoolean();
    private volatile DmaBuf buffer;

    /**
     * @param deviceName     the device's name, for messages
     * @param object         the GEM object; it holds a reference for these ops, which release drops
     * @param deviceCounters the device's totals
     * @param onRelease      told when release ran, before the object's reference is dropped
     */
    ScanoutOps(String deviceName, DumbObject object, OpsCounters deviceCounters,
            Consumer<ScanoutOps> onRelease) {
        this.deviceName = deviceName;
        this.object = object;
        this.deviceCounters = deviceCounters;
        this.onRelease = onRelease;
    }

    /** Records the buffer the core made for these ops (right after export returned). */
    void exportedAs(DmaBuf dmaBuf) {
        this.buffer = dmaBuf;
    }

    /** The buffer, or null before export returned. */
    DmaBuf buffer() {
        return buffer;
    }

    DumbObject object() {
        return object;
    }

    /** True once release ran (the last reference went, or the buffer was revoked). */
    boolean isReleased() {
        return released.get();
    }

    /** How often each op ran for this buffer. */
    OpsCounters counters() {
        return counters;
    }

    /**
     * Puts the reference the device holds while the handle exists, once. The last reference of all releases the
     * buffer, which drops the GEM object's reference.
     *
     * @return true when this call put it
     */
    boolean putDeviceReference(DmaBufRegistry registry, DeviceLog log) {
        DmaBuf b = buffer;
        if (b == null || !devicePut.compareAndSet(false, true)) {
            return false;
        }
        try {
            registry.put(b);
            return true;
        } catch (DmaBufException | IllegalStateException e) {
            log.debug(deviceName + ": could not put the device's reference to " + b + ": " + e.getMessage());
            return false;
        }
    }

    private void count(Op op) {
        counters.count(op);
        deviceCounters.count(op);
    }

    /** Refuses a device that cannot use the run: beyond its mask, too long a segment for it, and so on. */
    @Override
    public void attach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        Device device = attachment.device();
        String why = object.allocation().unusableBy(device);
        if (why != null) {
            throw new DmaBufException(Errno.EBUSY, "scanout device '" + deviceName + "' cannot give " + object
                    + " to device '" + device.name() + "': " + why);
        }
        count(Op.ATTACH);
    }

    @Override
    public void detach(DmaBuf dmaBuf, DmaBufAttachment attachment) {
        count(Op.DETACH);
    }

    /** The run as the device sees it: one segment, or split to the device's segment size. */
    @Override
    public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
        SgTable table = object.allocation().sgTable(attachment.device());
        count(Op.MAP);
        return table;
    }

    /** Nothing to undo: there is no IOMMU mapping behind a bus address of the pool. */
    @Override
    public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        count(Op.UNMAP);
    }

    /** The dma-buf is gone (or revoked): drop its reference on the GEM object, which frees the storage if last. */
    @Override
    public void release(DmaBuf dmaBuf) {
        if (!released.compareAndSet(false, true)) {
            throw new IllegalStateException("release ran twice for the dma-buf of " + object);
        }
        count(Op.RELEASE);
        onRelease.accept(this);
        object.unref();
    }

    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        count(Op.BEGIN_CPU_ACCESS);
    }

    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        count(Op.END_CPU_ACCESS);
    }

    /** One page of the run. */
    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        MemorySegment page = object.allocation().page(pageIndex);
        count(Op.KMAP);
        return page;
    }

    @Override
    public void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        count(Op.KUNMAP);
    }

    /** The whole run: it is contiguous, so its pages are the view. */
    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        MemorySegment view = object.allocation().contiguousView();
        count(Op.VMAP);
        return view;
    }

    @Override
    public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
        count(Op.VUNMAP);
    }

    /** The part of the run the mapping shows. */
    @Override
    public MemorySegment mmap(DmaBuf dmaBuf, VmArea vma) {
        MemorySegment slice = object.allocation().contiguousView().asSlice(vma.offset(), vma.length());
        count(Op.MMAP);
        return slice;
    }
}
