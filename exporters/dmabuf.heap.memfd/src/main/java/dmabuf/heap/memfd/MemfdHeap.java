package dmabuf.heap.memfd;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.heap.DmaHeap;
import dmabuf.api.heap.DmaHeapRegistration;
import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.NativeException;

/**
 * The memfd heap, {@code /dev/dma_heap/memfd}: every buffer is a memfd of its own, sized once and sealed with
 * {@code F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL}, so the kernel itself keeps the buffer's size fixed whoever holds
 * the file, and mapped shared into the buffer's storage ({@link FileBufferOps}). Such a buffer can leave the JVM:
 * {@link DmaBufRegistry#osFd} gives a {@code dup} of its memfd for a native process.
 *
 * <h2>DOC: life</h2>
 * Start: where memfds exist ({@link Libc#available()}), the {@link DmaBufExporter} service {@code heap:<name>} is
 * registered and the heap added to the core; elsewhere the heap logs why it is unavailable and registers nothing, and
 * nothing else is affected. Allocate: the limit is checked first ({@link Errno#ENOMEM}), then memfd_create,
 * ftruncate, the seals and the mapping; a failing call undoes the ones before and its errno passes through. Stop:
 * the registration goes first, every live buffer is revoked (importers then get {@link Errno#ENODEV}; release unmaps
 * and closes the memfd), the exporter service is withdrawn.
 * <p>
 * The memory is the kernel's shmem, not the simulated physical memory, so it is not charged to a bundle's quota of
 * {@code dmabuf.memory}; the heap's own limit bounds it.
 */
@Component(name = MemfdHeap.PID, configurationPid = MemfdHeap.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true, service = {})
@Designate(ocd = MemfdHeapConfig.class)
public final class MemfdHeap implements DmaHeap, DmaBufExporter {
    /** The component's name and configuration PID. */
    public static final String PID = "dmabuf.heap.memfd";
    /** The seals every buffer's memfd carries: its size can never change, nor its seals. */
    public static final int SEALS = Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_SEAL;

    private static final long MIB = 1L << 20;

    private final DmaBufRegistry registry;
    private final Logger logger;
    private final LiveBuffers buffers;
    private final ExporterService exporter;
    private volatile String name;
    private volatile long limit;
    private volatile DmaHeapRegistration registration;

    /**
     * Registers the heap where memfds exist.
     *
     * @param context  this bundle's context, for the exporter service
     * @param config   the configuration, or its defaults
     * @param registry this bundle's dma-buf registry
     * @param logger   this component's logger
     */
    @Activate
    public MemfdHeap(BundleContext context, MemfdHeapConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        this.registry = registry;
        this.logger = logger;
        this.name = checkName(config.name());
        this.limit = limitBytes(config.limit_mb());
        this.buffers = new LiveBuffers("memfd heap '" + name + "'");
        if (!Libc.available()) {
            this.exporter = null;
            logger.warn("memfd heap unavailable: {}; no heap '{}' is registered", Libc.unavailableReason(), name);
            return;
        }
        this.exporter = ExporterService.register(context, this, exporterName(name), "dma_heap/" + name,
                "memfd heap '" + name + "' (sealed memfds)");
        try {
            this.registration = registry.addHeap(name, this);
        } catch (RuntimeException e) {
            exporter.unregister();
            throw e;
        }
        logger.info("memfd heap '{}' registered (exporter '{}', limit {} MiB)", name, exporterName(name),
                limit / MIB);
    }

    /** True when the heap is registered: memfds exist here. */
    public boolean isAvailable() {
        return exporter != null;
    }

    /** The exporter name of the heap with this name. */
    static String exporterName(String heapName) {
        return "heap:" + heapName;
    }

    private static String checkName(String name) {
        if (name == null || name.isEmpty() || name.indexOf('/') >= 0) {
            throw new IllegalArgumentException("invalid configuration of " + PID + ": name='" + name
                    + "' must not be empty and must not contain '/'");
        }
        return name;
    }

    private static long limitBytes(long mb) {
        if (mb < 1 || mb > (1L << 20)) {
            throw new IllegalArgumentException("invalid configuration of " + PID + ": limit.mb=" + mb
                    + " must be between 1 and 1048576");
        }
        return mb * MIB;
    }

    @Override
    public DmaBuf allocate(long length, int accessMode, long heapFlags, long callerBundleId) {
        return buffers.admit(() -> allocateAdmitted(length, accessMode, callerBundleId));
    }

    private DmaBuf allocateAdmitted(long length, int accessMode, long callerBundleId) {
        String heapName = name;
        if (!buffers.reserve(length, limit)) {
            throw new DmaBufException(Errno.ENOMEM, "memfd heap '" + heapName + "' cannot give " + length
                    + " bytes to bundle " + callerBundleId + ": its live buffers have " + buffers.bytes()
                    + " of its limit of " + limit / MIB + " MiB (" + PID + " limit.mb)");
        }
        FileBufferOps ops;
        try {
            ops = create(heapName, length);
        } catch (RuntimeException e) {
            buffers.unreserve(length);
            throw e;
        }
        buffers.add(ops);
        DmaBuf buffer;
        try {
            buffer = registry.export(ExportInfo.builder(ops, length).flags(accessMode)
                    .exporter(exporterName(heapName)).build());
        } catch (RuntimeException e) {
            ops.release(null); // never exported, so the core will not release it: unmap and close here
            throw e;
        }
        ops.exportedAs(buffer);
        return buffer;
    }

    /** memfd_create, ftruncate, seals, mmap; whatever fails undoes what came before. */
    private FileBufferOps create(String heapName, long length) {
        int fd;
        try {
            fd = Libc.memfdCreate("dmabuf-heap:" + heapName, Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        } catch (NativeException e) {
            throw OsErrors.failed("memfd heap '" + heapName + "': memfd_create", e);
        }
        try {
            Libc.ftruncate(fd, length);
            Libc.addSeals(fd, SEALS);
            MappedRegion region = MappedRegion.map(new MappedRegion.FileRange(fd, 0, length),
                    Libc.PROT_READ | Libc.PROT_WRITE);
            return new FileBufferOps("memfd heap '" + heapName + "' buffer", fd, region, buffers::released);
        } catch (NativeException e) {
            Libc.close(fd);
            throw OsErrors.failed("memfd heap '" + heapName + "': a buffer of " + length + " bytes", e);
        }
    }

    /** The ops of every buffer not yet released (for tests). */
    java.util.List<MappedBufferOps> liveBuffers() {
        return buffers.snapshot();
    }

    /**
     * Applies a configuration change without revoking anything: the limit at the next allocation, a new name by
     * re-registering the heap (a name the core refuses leaves the old one, and the log says why).
     *
     * @param config the new configuration
     */
    @Modified
    void modified(MemfdHeapConfig config) {
        limit = limitBytes(config.limit_mb());
        String newName = checkName(config.name());
        if (!isAvailable() || newName.equals(name)) {
            return;
        }
        DmaHeapRegistration added;
        try {
            added = registry.addHeap(newName, this);
        } catch (DmaBufException e) {
            logger.error("memfd heap '{}' cannot be renamed to '{}': {}; it keeps its name", name, newName,
                    e.getMessage());
            return;
        }
        exporter.rename(exporterName(newName), "dma_heap/" + newName);
        DmaHeapRegistration previous = registration;
        registration = added;
        String old = name;
        name = newName;
        previous.close();
        logger.info("memfd heap '{}' renamed to '{}'; live buffers stay usable", old, newName);
    }

    /** Removes the heap, revokes its live buffers, withdraws the exporter service. */
    @Deactivate
    void deactivate() {
        if (!isAvailable()) {
            return;
        }
        registration.close();
        int revoked = buffers.shutdown(registry, logger);
        exporter.unregister();
        logger.info("memfd heap '{}' removed: {} live buffer(s) revoked", name, revoked);
    }

    @Override
    public String toString() {
        return "memfd heap '" + name + "'";
    }
}
