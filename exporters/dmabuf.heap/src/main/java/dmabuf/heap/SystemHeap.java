package dmabuf.heap;

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

import dmabuf.api.DmaBufRegistry;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.api.memory.PoolSpec;

/**
 * The system heap, {@code /dev/dma_heap/system}: zeroed buffers of scattered pages from a pool of system memory
 * reserved when the heap starts, taken in chunks of up to 1 MiB (the largest of the kernel system heap's 1 MiB,
 * 64 KiB and 4 KiB orders). The pages lie anywhere in physical memory (ZONE_NORMAL), so a device that needs
 * contiguous memory, or one with a 32-bit DMA mask, is refused at attach ({@link dmabuf.api.Errno#EBUSY}): it
 * should allocate from the CMA heap. Importers' vmap and mmap see the scattered pages through one alias mapping
 * in buffer order.
 * <p>
 * Configured by the factory-less PID {@value #PID} ({@link SystemHeapConfig}), optional: the system heap exists with
 * its defaults (256 MiB named {@code system}) unless configured otherwise. See {@link HeapDriver} for the life of a
 * heap and what a configuration change does.
 */
@Component(name = SystemHeap.PID, configurationPid = SystemHeap.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true, service = {})
@Designate(ocd = SystemHeapConfig.class)
public final class SystemHeap extends HeapDriver {
    /** The component's name and configuration PID. */
    public static final String PID = "dmabuf.heap.system";
    /** The longest run of pages one chunk of an allocation takes: 1 MiB, the system heap's largest order. */
    public static final long MAX_CHUNK = PoolSpec.MIB;

    private final long sizeMb;

    /**
     * Reserves the pool and registers the heap.
     *
     * @param context  this bundle's context, for the heap's DmaBufExporter service
     * @param config   the configuration, or its defaults
     * @param registry this bundle's dma-buf registry
     * @param memory   this bundle's physical memory
     * @param logger   this component's logger
     */
    @Activate
    public SystemHeap(BundleContext context, SystemHeapConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "memory") PhysicalMemory memory,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        super(PID, checkName(PID, config.name()), spec(config), context, registry, memory, logger);
        this.sizeMb = config.size_mb();
    }

    /** The pool of a system heap with this configuration. */
    static PoolSpec spec(SystemHeapConfig config) {
        return PoolSpec.scattered(poolName(checkName(PID, config.name())), poolBytes(PID, config.size_mb()))
                .withMaxChunk(MAX_CHUNK);
    }

    /**
     * Applies a configuration change without revoking anything: a new name re-registers the heap now, a new size
     * applies on restart.
     *
     * @param config the new configuration
     */
    @Modified
    void modified(SystemHeapConfig config) {
        restartOnly("size.mb", Long.toString(sizeMb), Long.toString(config.size_mb()));
        rename(config.name());
    }

    /** Removes the heap, revokes its live buffers, closes the pool. */
    @Deactivate
    void deactivate() {
        stop();
    }
}
