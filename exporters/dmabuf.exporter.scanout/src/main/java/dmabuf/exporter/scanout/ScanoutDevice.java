package dmabuf.exporter.scanout;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.api.memory.Placement;
import dmabuf.api.memory.PoolSpec;
import dmabuf.exporter.scanout.api.DumbBuffer;
import dmabuf.exporter.scanout.api.DumbBufferDevice;

/**
 * One scanout device, free of OSGi: its pool, its handle table and its exports. The DS component creates one per
 * configuration and publishes it; tests drive it against a real core and memory engine.
 *
 * <h2>DOC: locking</h2>
 * The device's lock guards the handle table, the pool and the mmap offsets; CREATE_DUMB allocates under it, so the
 * pool never changes under an allocation. A GEM object's monitor guards its export, so two exports of one handle
 * give one dma-buf. Neither is held while the device calls the core, except the object's monitor around
 * {@link DmaBufRegistry#export}, which calls no exporter op. The core's callbacks (release above all) take neither.
 *
 * <h2>DOC: stopping</h2>
 * {@link #shutdown()}: later calls fail with ENODEV; every handle is closed (waiting for an export in progress) and
 * the device's references put; buffers importers still hold are revoked (their release runs now); the storage of
 * every object goes back to the pool; then the pool is closed.
 */
final class ScanoutDevice implements DumbBufferDevice, DmaBufExporter {
    /** The first fake mmap offset, in pages: {@code DRM_FILE_PAGE_OFFSET_START} on 64-bit (4 GiB in bytes). */
    static final long FILE_PAGE_OFFSET_START = (0xFFFF_FFFFL >>> DmaBufUapi.PAGE_SHIFT) + 1;

    private final DmaBufRegistry registry;
    private final PhysicalMemory memory;
    private final DeviceLog log;
    private final OpsCounters counters = new OpsCounters();
    private final Object lock = new Object();
    /** Objects whose storage is allocated: with a handle, an unreleased dma-buf, or both. */
    private final Set<DumbObject> live = ConcurrentHashMap.newKeySet();
    /** Ops of exported dma-bufs whose release has not run. */
    private final Set<ScanoutOps> exports = ConcurrentHashMap.newKeySet();

    private volatile ScanoutSettings settings;
    private volatile boolean stopped;
    // Guarded by lock.
    private PagePool pool;
    private final Map<Integer, DumbObject> handles = new HashMap<>();
    private final BitSet usedHandles = new BitSet();
    private long nextOffsetPage = FILE_PAGE_OFFSET_START;

    /**
     * Creates the device's pool: contiguous, below a 32-bit mask, pre-faulted.
     *
     * @param settings the validated configuration
     * @param registry the registry of the bundle that exports
     * @param memory   the physical memory of that bundle
     * @param log      where messages go
     * @throws DmaBufException from {@link PhysicalMemory#createPool}: a duplicate pool name (another device of the
     *         same name) or no room below 4 GiB
     */
    ScanoutDevice(ScanoutSettings settings, DmaBufRegistry registry, PhysicalMemory memory, DeviceLog log) {
        this.settings = settings;
        this.registry = registry;
        this.memory = memory;
        this.log = log;
        this.pool = memory.createPool(poolSpec(settings));
    }

    static PoolSpec poolSpec(ScanoutSettings s) {
        return new PoolSpec(s.poolName(), s.memoryBytes(), Placement.CONTIGUOUS, Device.DMA_MASK_32, PoolSpec.MIB);
    }

    @Override
    public String name() {
        return settings.name();
    }

    /** The configuration in force. */
    ScanoutSettings settings() {
        return settings;
    }

    /** The pool, or null once stopped. */
    PagePool pool() {
        synchronized (lock) {
            return pool;
        }
    }

    /** How often each op ran on any of this device's buffers. */
    OpsCounters counters() {
        return counters;
    }

    /** The number of open handles. */
    int handleCount() {
        synchronized (lock) {
            return handles.size();
        }
    }

    /** The number of objects whose storage is allocated. */
    int liveObjects() {
        return live.size();
    }

    /** The GEM object behind a handle, or null; for tests. */
    DumbObject objectOf(int handle) {
        synchronized (lock) {
            return handles.get(handle);
        }
    }

    /** The ops of the handle's current export, or null; for tests. */
    ScanoutOps exportOf(int handle) {
        DumbObject o = objectOf(handle);
        return o == null ? null : o.exported();
    }

    /** True once stopped. */
    boolean isStopped() {
        return stopped;
    }

    // ---- CREATE_DUMB, MAP_DUMB, DESTROY_DUMB -------------------------------------------------------------------

    @Override
    public DumbBuffer createDumb(int width, int height, int bpp, int flags) {
        checkRunning();
        ScanoutSettings s = settings;
        DumbLayout layout = DumbLayout.compute(width, height, bpp, flags, s.maxWidth(), s.maxHeight());
        synchronized (lock) {
            checkRunning();
            if (pool == null) {
                throw new DmaBufException(Errno.ENOMEM, "scanout device '" + s.name() + "' has no pool (see the "
                        + "log of its last reconfiguration)");
            }
            PageAllocation allocation = pool.allocate(layout.size());
            int handle = usedHandles.nextClearBit(1);
            DumbObject object = new DumbObject(handle, layout, allocation, live::remove);
            usedHandles.set(handle);
            handles.put(handle, object);
            live.add(object);
            return new DumbBuffer(handle, width, height, bpp, (int) layout.pitch(), layout.size());
        }
    }

    @Override
    public long mapDumbOffset(int handle) {
        synchronized (lock) {
            checkRunning();
            DumbObject o = lookup(handle);
            long page = o.offsetPage();
            if (page == 0) {
                page = nextOffsetPage;
                nextOffsetPage += o.layout().size() >>> DmaBufUapi.PAGE_SHIFT;
                o.setOffsetPage(page);
            }
            return page << DmaBufUapi.PAGE_SHIFT;
        }
    }

    @Override
    public void destroyDumb(int handle) {
        DumbObject o;
        synchronized (lock) {
            checkRunning();
            o = lookup(handle);
            handles.remove(handle);
            usedHandles.clear(handle);
        }
        ScanoutOps ops = o.closeHandle();
        if (ops != null) {
            ops.putDeviceReference(registry, log);
        }
        o.unref();
    }

    // ---- PRIME -------------------------------------------------------------------------------------------------

    @Override
    public DmaBuf exportDumb(int handle, int flags) {
        if ((flags & ~(DRM_CLOEXEC | DRM_RDWR)) != 0) {
            throw new DmaBufException(Errno.EINVAL, String.format("PRIME export of handle %d on '%s': flags 0x%x; "
                    + "only DRM_CLOEXEC (0x%x) and DRM_RDWR (0x%x) are allowed", Integer.toUnsignedLong(handle),
                    name(), Integer.toUnsignedLong(flags), DRM_CLOEXEC, DRM_RDWR));
        }
        DumbObject o;
        synchronized (lock) {
            checkRunning();
            o = lookup(handle);
        }
        ScanoutOps stale = null;
        DmaBuf result;
        synchronized (o) {
            if (o.isHandleClosed() || stopped) {
                checkRunning();
                throw noSuchHandle(handle);
            }
            ScanoutOps current = o.exported();
            if (current != null && !current.isReleased()) {
                return current.buffer();
            }
            stale = current; // revoked under the handle (its exporter service went away): export anew
            String exporter = settings.name();
            ScanoutOps ops = new ScanoutOps(exporter, o, counters, exports::remove);
            o.ref();
            exports.add(ops);
            try {
                ExportInfo.Builder info = ExportInfo.builder(ops, o.layout().size())
                        .exporter(exporter)
                        .flags((flags & DRM_RDWR) != 0 ? DmaBufUapi.O_RDWR : DmaBufUapi.O_RDONLY);
                String bufferName = "dumb-" + handle + " " + o.layout().width() + "x" + o.layout().height();
                if (bufferName.length() < DmaBufUapi.DMA_BUF_NAME_LEN) {
                    info.name(bufferName);
                }
                result = registry.export(info.build());
            } catch (RuntimeException e) {
                // Nothing was exported, so release will never run for these ops: drop their reference here.
                exports.remove(ops);
                o.unref();
                throw e;
            }
            ops.exportedAs(result);
            o.setExported(ops);
        }
        if (stale != null) {
            stale.putDeviceReference(registry, log);
        }
        return result;
    }

    // ---- configuration and stop --------------------------------------------------------------------------------

    /**
     * Applies a new configuration without touching live buffers: the limits apply to new buffers; a new memory size
     * only while no buffer lives (the pool is recreated), else it is refused and logged; the name never changes
     * while the device runs.
     *
     * @param requested the new configuration, validated
     * @return the configuration now in force
     */
    ScanoutSettings reconfigure(ScanoutSettings requested) {
        synchronized (lock) {
            ScanoutSettings current = settings;
            if (stopped) {
                return current;
            }
            ScanoutSettings effective = requested;
            if (!requested.name().equals(current.name())) {
                log.warn("scanout device '" + current.name() + "': the name cannot change to '" + requested.name()
                        + "' while the device runs (its exporter service, pool and buffers carry it); keeping '"
                        + current.name() + "'. Delete the configuration and create one with the new name.");
                effective = effective.withName(current.name());
            }
            if (requested.memoryBytes() != current.memoryBytes()) {
                if (!live.isEmpty()) {
                    log.warn("scanout device '" + current.name() + "': memory.mb stays " + current.memoryMb()
                            + " instead of " + requested.memoryMb() + ": " + live.size() + " buffer(s) live in the "
                            + "pool, which cannot be resized under them. Destroy them and update the configuration "
                            + "again.");
                    effective = effective.withMemoryBytes(current.memoryBytes());
                } else {
                    effective = effective.withMemoryBytes(resizePool(current, effective));
                }
            }
            if (effective.maxWidth() != current.maxWidth() || effective.maxHeight() != current.maxHeight()) {
                log.info("scanout device '" + current.name() + "': new buffers at most " + effective.maxWidth() + "x"
                        + effective.maxHeight() + " (was " + current.maxWidth() + "x" + current.maxHeight() + ")");
            }
            settings = effective;
            return effective;
        }
    }

    /** Replaces the empty pool by one of the new size; on failure restores the old size. Under the lock. */
    private long resizePool(ScanoutSettings current, ScanoutSettings wanted) {
        if (pool != null) {
            pool.close(); // empty: no buffer lives
            pool = null;
        }
        try {
            pool = memory.createPool(poolSpec(wanted));
            log.info("scanout device '" + current.name() + "': pool resized to " + wanted.memoryMb() + " MB");
            return wanted.memoryBytes();
        } catch (DmaBufException e) {
            log.error("scanout device '" + current.name() + "': cannot create a pool of " + wanted.memoryMb()
                    + " MB (" + e.getMessage() + "); keeping " + current.memoryMb() + " MB", e);
            try {
                pool = memory.createPool(poolSpec(current));
            } catch (DmaBufException again) {
                log.error("scanout device '" + current.name() + "': cannot recreate its pool of "
                        + current.memoryMb() + " MB either (" + again.getMessage() + "); CREATE_DUMB fails with "
                        + "ENOMEM until the next configuration change", again);
            }
            return current.memoryBytes();
        }
    }

    /**
     * Stops the device: later calls fail with ENODEV, every handle is closed, buffers importers still hold are
     * revoked, and the pool is closed once no storage is in use. Idempotent.
     */
    void shutdown() {
        List<DumbObject> open;
        synchronized (lock) {
            if (stopped) {
                return;
            }
            stopped = true;
            open = new ArrayList<>(handles.values());
            handles.clear();
            usedHandles.clear();
        }
        // Close every handle; an export in progress on it finishes first (the object's monitor), no new one starts.
        List<ScanoutOps> held = new ArrayList<>();
        for (DumbObject o : open) {
            ScanoutOps ops = o.closeHandle();
            if (ops != null) {
                held.add(ops);
            }
        }
        // The device's references: a buffer no importer holds is released here, the ordinary way.
        for (ScanoutOps ops : held) {
            ops.putDeviceReference(registry, log);
        }
        // What importers still hold must not outlive the pool: revoke it (importers are told, views invalidated,
        // release runs and drops the object's reference).
        int revoked = 0;
        for (ScanoutOps ops : List.copyOf(exports)) {
            DmaBuf b = ops.buffer();
            if (b != null && !ops.isReleased()) {
                try {
                    registry.revoke(b);
                    revoked++;
                } catch (DmaBufException | IllegalStateException e) {
                    log.warn("scanout device '" + name() + "': could not revoke " + b + ": " + e.getMessage());
                }
            }
        }
        for (DumbObject o : open) {
            o.unref();
        }
        PagePool p;
        synchronized (lock) {
            p = pool;
            pool = null;
        }
        if (!live.isEmpty()) {
            log.error("scanout device '" + name() + "': " + live.size() + " buffer(s) still use the pool after "
                    + "revocation " + live + "; closing the pool frees their storage", null);
        }
        if (p != null) {
            p.close();
        }
        log.info("scanout device '" + name() + "' stopped: " + open.size() + " handle(s) closed, " + revoked
                + " buffer(s) still held by importers revoked");
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private void checkRunning() {
        if (stopped) {
            throw new DmaBufException(Errno.ENODEV, "scanout device '" + name() + "' has stopped");
        }
    }

    /** Under the lock. */
    private DumbObject lookup(int handle) {
        DumbObject o = handles.get(handle);
        if (o == null) {
            throw noSuchHandle(handle);
        }
        return o;
    }

    private DmaBufException noSuchHandle(int handle) {
        return new DmaBufException(Errno.ENOENT, "scanout device '" + name() + "' has no dumb buffer with handle "
                + Integer.toUnsignedLong(handle));
    }

    @Override
    public String toString() {
        return "scanout device '" + name() + "'";
    }
}
