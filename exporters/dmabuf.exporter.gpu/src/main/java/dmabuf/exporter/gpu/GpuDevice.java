package dmabuf.exporter.gpu;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

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
import dmabuf.api.memory.PoolSpec;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.gpu.api.MemoryInfo;
import dmabuf.exporter.gpu.api.ObjectInfo;
import dmabuf.exporter.gpu.api.Residency;

/**
 * One simulated GPU, free of OSGi: its two pools, its handle table of {@link GpuObject buffer objects}, PRIME export
 * with the bundle's own registry, reconfiguration and shutdown. {@link GpuComponent} creates one per factory
 * configuration and registers it as the {@link Gpu} and {@link DmaBufExporter} service; tests do the same with a
 * core and a memory engine of their own.
 * <p>
 * DOC: pools. VRAM is a SCATTERED pool of 64 KiB chunks under the configured {@code dma.mask} (anywhere by default,
 * which is above 4 GiB); system memory is a SCATTERED pool of 4 KiB pages under a 32-bit mask. Both are created (and
 * pre-faulted) when the device starts and closed when it stops, after every buffer still alive was revoked.
 * <p>
 * DOC: locking. {@link #handleLock} serialises the control path (create, close, export, shutdown) and may call the
 * registry; a {@link GpuObject}'s monitor guards its state and never calls the registry; the pool lock (this
 * device's {@code pools} monitor) guards allocation, freeing and swapping a pool on reconfiguration. Order: handle
 * lock, core buffer lock, object monitor, pool lock.
 */
final class GpuDevice implements Gpu, DmaBufExporter {
    /** The capabilities advertised in {@link DmaBufExporter#CAPABILITIES}. */
    static final String[] CAPABILITIES = {"vmap", "kmap", "mmap", "pin", "dynamic", "prime", "migrate"};

    private final String name;
    private final DmaBufRegistry registry;
    private final PhysicalMemory memory;
    private final GpuLog log;

    private final Object pools = new Object();
    private PagePool vram; // guarded by pools
    private PagePool sysmem; // guarded by pools
    private volatile GpuSettings settings;

    private final ReentrantLock handleLock = new ReentrantLock();
    private final Map<Integer, GpuObject> handles = new ConcurrentHashMap<>();
    /** Every object not dead: open handle, live dma-buf or both. */
    private final Set<GpuObject> live = ConcurrentHashMap.newKeySet();
    private volatile boolean closing;

    /**
     * Creates and pre-faults the pools.
     *
     * @param settings the configuration
     * @param registry the bundle's dma-buf registry, used to export, put, revoke and invalidate
     * @param memory   the bundle's physical memory
     * @param log      where messages go
     * @throws DmaBufException from {@link PhysicalMemory#createPool}: EINVAL for a pool name in use (another device
     *         with this name), ENOMEM over the platform's limit
     */
    GpuDevice(GpuSettings settings, DmaBufRegistry registry, PhysicalMemory memory, GpuLog log) {
        this.name = settings.name();
        this.registry = registry;
        this.memory = memory;
        this.log = log;
        this.settings = settings;
        this.vram = memory.createPool(settings.vramSpec());
        try {
            this.sysmem = memory.createPool(settings.sysmemSpec());
        } catch (RuntimeException e) {
            vram.close();
            throw e;
        }
        log.info("GPU '" + name + "' started: " + bytes(settings.vramBytes()) + " VRAM (DMA mask "
                + hex(settings.vramMask()) + ", up to " + hex(vram.highestAddress()) + "), "
                + bytes(settings.sysmemBytes()) + " system memory (up to " + hex(sysmem.highestAddress()) + ")");
    }

    /** The service properties of the {@link Gpu} and {@link DmaBufExporter} registration. */
    Hashtable<String, Object> serviceProperties() {
        GpuSettings s = settings;
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(DmaBufExporter.NAME, name);
        props.put(DmaBufExporter.DEVICE, name);
        props.put(DmaBufExporter.CAPABILITIES, CAPABILITIES.clone());
        props.put("gpu.vram.bytes", s.vramBytes());
        props.put("gpu.sysmem.bytes", s.sysmemBytes());
        props.put("service.description", "simulated GPU '" + name + "' (dma-buf exporter)");
        return props;
    }

    // ---- Gpu ----------------------------------------------------------------------------------------------------

    @Override
    public String name() {
        return name;
    }

    @Override
    public int createObject(long size) {
        checkRunning();
        if (size <= 0 || size > Long.MAX_VALUE - (DmaBufUapi.PAGE_SIZE - 1)) {
            throw new DmaBufException(Errno.EINVAL, "GPU '" + name + "': an object needs a positive size that does "
                    + "not wrap when page-aligned, not " + size);
        }
        long aligned = (size + DmaBufUapi.PAGE_SIZE - 1) & -(long) DmaBufUapi.PAGE_SIZE;
        long largest;
        synchronized (pools) {
            largest = Math.max(vram == null ? 0 : vram.capacity(), sysmem == null ? 0 : sysmem.capacity());
        }
        if (aligned > largest) {
            throw new DmaBufException(Errno.ENOMEM, "GPU '" + name + "': an object of " + bytes(aligned)
                    + " could never be placed; the largest pool holds " + bytes(largest));
        }
        handleLock.lock();
        try {
            checkRunning();
            int handle = 1;
            while (handles.containsKey(handle)) {
                handle++;
            }
            GpuObject obj = new GpuObject(this, handle, aligned);
            live.add(obj);
            handles.put(handle, obj);
            return handle;
        } finally {
            handleLock.unlock();
        }
    }

    @Override
    public void closeHandle(int handle) {
        handleLock.lock();
        try {
            GpuObject obj = handles.remove(handle);
            if (obj == null) {
                throw noSuchHandle(handle);
            }
            PrimeBuffer held = obj.closeHandle();
            if (held != null) {
                putQuietly(held.buffer(), obj);
            }
        } finally {
            handleLock.unlock();
        }
    }

    @Override
    public DmaBuf primeExport(int handle, int flags) {
        if ((flags & ~(DRM_CLOEXEC | DRM_RDWR)) != 0) {
            throw new DmaBufException(Errno.EINVAL, String.format("GPU '%s': PRIME flags 0x%x: only DRM_CLOEXEC "
                    + "(0x%x) and DRM_RDWR (0x%x) are allowed", name, flags, DRM_CLOEXEC, DRM_RDWR));
        }
        int accessMode = (flags & DRM_RDWR) != 0 ? DmaBufUapi.O_RDWR : DmaBufUapi.O_RDONLY;
        handleLock.lock();
        try {
            checkRunning();
            GpuObject obj = handles.get(handle);
            if (obj == null) {
                throw noSuchHandle(handle);
            }
            PrimeBuffer existing = obj.export();
            if (existing != null && !existing.isReleased() && existing.buffer() != null) {
                return existing.buffer(); // PRIME caches the dma-buf on the object
            }
            PrimeBuffer stale = obj.takeReference();
            if (stale != null) {
                putQuietly(stale.buffer(), obj); // the GPU's reference to a dma-buf that was revoked
            }
            PrimeBuffer pb = new PrimeBuffer(obj);
            obj.setExport(pb);
            DmaBuf buf;
            try {
                ExportInfo.Builder info = ExportInfo.builder(pb, obj.size()).flags(accessMode).exporter(name);
                String bufferName = name + "-bo" + handle;
                if (bufferName.getBytes(StandardCharsets.UTF_8).length < DmaBufUapi.DMA_BUF_NAME_LEN) {
                    info.name(bufferName);
                }
                buf = registry.export(info.build());
            } catch (RuntimeException e) {
                obj.setExport(existing != null && !existing.isReleased() ? existing : null);
                throw e;
            }
            pb.exportedAs(buf);
            obj.holdReference(pb);
            return buf;
        } finally {
            handleLock.unlock();
        }
    }

    @Override
    public void gpuFill(int handle, long offset, long length, byte value) {
        object(handle).gpuFill(offset, length, value);
    }

    @Override
    public ObjectInfo info(int handle) {
        return object(handle).info();
    }

    @Override
    public MemoryInfo memory() {
        synchronized (pools) {
            return new MemoryInfo(vram == null ? 0 : vram.capacity(), vram == null ? 0 : vram.available(),
                    sysmem == null ? 0 : sysmem.capacity(), sysmem == null ? 0 : sysmem.available());
        }
    }

    // ---- for objects and their exports --------------------------------------------------------------------------

    DmaBufRegistry registry() {
        return registry;
    }

    GpuLog log() {
        return log;
    }

    /**
     * Allocates storage for an object.
     *
     * @throws DmaBufException {@link Errno#ENOMEM} when the pool cannot give it (or is gone)
     */
    PageAllocation allocate(Residency where, long bytes) {
        synchronized (pools) {
            PagePool pool = where == Residency.VRAM ? vram : sysmem;
            if (pool == null) {
                throw new DmaBufException(Errno.ENOMEM, "GPU '" + name + "' has no " + where + " pool");
            }
            try {
                return pool.allocate(bytes);
            } catch (DmaBufException e) {
                if (e.errno() == Errno.ENODEV) {
                    throw new DmaBufException(Errno.ENOMEM, "GPU '" + name + "': the " + where + " pool is closed",
                            e);
                }
                throw e;
            }
        }
    }

    /** Gives storage back to its pool. */
    void free(PageAllocation a) {
        synchronized (pools) {
            a.close();
        }
    }

    /** True when the device reaches every address of the VRAM pool. */
    boolean reachesVram(Device d) {
        synchronized (pools) {
            return vram != null && Long.compareUnsigned(vram.highestAddress(), d.dmaMask()) <= 0;
        }
    }

    /** True when the device reaches every address of the system-memory pool. */
    boolean reachesSystem(Device d) {
        synchronized (pools) {
            return sysmem != null && Long.compareUnsigned(sysmem.highestAddress(), d.dmaMask()) <= 0;
        }
    }

    long vramHighest() {
        synchronized (pools) {
            return vram == null ? -1 : vram.highestAddress();
        }
    }

    long systemHighest() {
        synchronized (pools) {
            return sysmem == null ? -1 : sysmem.highestAddress();
        }
    }

    /** An object died (its storage is back). */
    void forget(GpuObject obj) {
        live.remove(obj);
    }

    // ---- configuration and shutdown -----------------------------------------------------------------------------

    /** The settings in force (what was applied of the configuration). */
    GpuSettings settings() {
        return settings;
    }

    /**
     * Applies a new configuration without touching live buffers. The name is fixed while the device runs (its pools
     * and buffers carry it): a new name is logged and ignored. A pool's size (and VRAM's mask) changes by replacing
     * the pool, which only happens while no object occupies it; otherwise the change is logged and the old value
     * kept, to be applied by a later configuration change once the pool is empty.
     *
     * @param next the new settings
     * @return the settings now in force
     */
    GpuSettings reconfigure(GpuSettings next) {
        handleLock.lock();
        try {
            checkRunning();
            GpuSettings now = settings;
            if (!next.name().equals(name)) {
                log.warn("GPU '" + name + "': name '" + next.name() + "' ignored: a device keeps its name while it "
                        + "runs (its pools and buffers carry it); delete the configuration and create a new one");
            }
            synchronized (pools) {
                if (next.vramBytes() != now.vramBytes() || next.vramMask() != now.vramMask()) {
                    Replacement r = replace("VRAM", vram, now.vramSpec(), now.withVram(next).vramSpec());
                    vram = r.pool();
                    if (r.applied()) {
                        now = now.withVram(next);
                    }
                }
                if (next.sysmemBytes() != now.sysmemBytes()) {
                    Replacement r = replace("system memory", sysmem, now.sysmemSpec(),
                            now.withSysmem(next).sysmemSpec());
                    sysmem = r.pool();
                    if (r.applied()) {
                        now = now.withSysmem(next);
                    }
                }
            }
            settings = now;
            return now;
        } finally {
            handleLock.unlock();
        }
    }

    /** The pool to use after {@link #replace}, and whether it has the new spec. */
    private record Replacement(PagePool pool, boolean applied) {
    }

    /**
     * Replaces a pool by one of the new spec, only while it is empty. Keeps the old pool when it is in use; when the
     * new pool cannot be made, makes one of the old spec again (null when even that fails: objects then go to the
     * other pool). The caller holds the pool lock.
     */
    private Replacement replace(String what, PagePool old, PoolSpec oldSpec, PoolSpec newSpec) {
        long used = old == null ? 0 : old.capacity() - old.available();
        if (used > 0) {
            log.warn("GPU '" + name + "': " + what + " stays " + bytes(oldSpec.size()) + " (DMA mask "
                    + hex(oldSpec.dmaMask()) + "), not " + bytes(newSpec.size()) + " (mask " + hex(newSpec.dmaMask())
                    + "): " + bytes(used) + " of it hold live objects, and a pool is only replaced while empty; "
                    + "apply the configuration again once they are freed");
            return new Replacement(old, false);
        }
        if (old != null) {
            old.close();
        }
        try {
            PagePool p = memory.createPool(newSpec);
            log.info("GPU '" + name + "': " + what + " is now " + bytes(newSpec.size()) + " (DMA mask "
                    + hex(newSpec.dmaMask()) + ")");
            return new Replacement(p, true);
        } catch (DmaBufException e) {
            log.warn("GPU '" + name + "': " + what + " could not become " + bytes(newSpec.size()) + ": "
                    + e.getMessage() + "; keeping " + bytes(oldSpec.size()));
            try {
                return new Replacement(memory.createPool(oldSpec), false);
            } catch (DmaBufException e2) {
                log.error("GPU '" + name + "': " + what + " could not be recreated either (" + e2.getMessage()
                        + "); objects are placed in the other pool", e2);
                return new Replacement(null, false);
            }
        }
    }

    /**
     * Stops the device: refuses new work, closes every handle (putting the GPU's references), revokes every dma-buf
     * importers still hold (its release frees the storage), and closes the pools once nothing lives in them. Storage
     * whose release could not be brought about stays allocated (an importer may still see it) and is reported.
     */
    void close() {
        handleLock.lock();
        try {
            if (closing) {
                return;
            }
            closing = true;
            for (Integer h : new TreeMap<>(handles).keySet()) {
                GpuObject obj = handles.remove(h);
                PrimeBuffer held = obj.closeHandle();
                if (held != null) {
                    putQuietly(held.buffer(), obj);
                }
            }
        } finally {
            handleLock.unlock();
        }
        for (GpuObject obj : new ArrayList<>(live)) {
            PrimeBuffer export = obj.export();
            if (export != null && export.buffer() != null && !export.isReleased()) {
                try {
                    registry.revoke(export.buffer());
                } catch (DmaBufException e) {
                    log.debug("GPU '" + name + "': revoking the dma-buf of " + obj.label() + ": " + e.getMessage());
                }
            }
        }
        List<GpuObject> stuck = new ArrayList<>();
        for (GpuObject obj : new ArrayList<>(live)) {
            PrimeBuffer export = obj.export();
            if (export == null || export.buffer() == null) {
                obj.forceDie(); // never exported (or export failed): nothing outside this driver sees it
            } else {
                stuck.add(obj);
            }
        }
        synchronized (pools) {
            if (stuck.isEmpty()) {
                if (vram != null) {
                    vram.close();
                }
                if (sysmem != null) {
                    sysmem.close();
                }
                vram = null;
                sysmem = null;
                log.info("GPU '" + name + "' stopped");
            } else {
                log.error("GPU '" + name + "' stopped with " + stuck.size() + " object(s) whose dma-buf could not "
                        + "be released " + stuck + "; their pools stay allocated rather than be freed under their "
                        + "importers", null);
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private GpuObject object(int handle) {
        GpuObject obj = handles.get(handle);
        if (obj == null) {
            throw noSuchHandle(handle);
        }
        return obj;
    }

    private void checkRunning() {
        if (closing) {
            throw new DmaBufException(Errno.ENODEV, "GPU '" + name + "' is stopping");
        }
    }

    private DmaBufException noSuchHandle(int handle) {
        return new DmaBufException(Errno.ENOENT, "GPU '" + name + "' has no open handle " + handle);
    }

    private void putQuietly(DmaBuf buf, GpuObject obj) {
        if (buf == null) {
            return;
        }
        try {
            registry.put(buf);
        } catch (DmaBufException e) {
            log.warn("GPU '" + name + "': putting its reference to the dma-buf of " + obj.label() + ": "
                    + e.getMessage());
        }
    }

    static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    static String bytes(long b) {
        if (b >= (1L << 20) && b % (1L << 20) == 0) {
            return (b >> 20) + " MiB";
        }
        if (b >= 1024 && b % 1024 == 0) {
            return (b >> 10) + " KiB";
        }
        return b + " bytes";
    }
}
