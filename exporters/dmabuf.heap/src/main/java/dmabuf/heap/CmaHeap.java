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
 * The CMA heap, {@code /dev/dma_heap/reserved}: zeroed buffers that are each one physically contiguous run, first
 * fit, from a region reserved when the heap starts, by default below 4 GiB (ZONE_DMA32). Every device whose mask
 * reaches the region can use its buffers, including ones that need contiguous memory or have 32-bit DMA masks. A
 * request the region has enough free pages for but no long enough run is {@link dmabuf.api.Errno#ENOMEM} saying the
 * region is fragmented.
 * <p>
 * Configured by the factory-less PID {@value #PID} ({@link CmaHeapConfig}), optional: the heap exists with its
 * defaults (64 MiB below 4 GiB named {@code reserved}, the name the kernel gives the default CMA area) unless
 * configured otherwise. See {@link HeapDriver} for the life of a heap and what a configuration change does.
 */
@Component(name = CmaHeap.PID, configurationPid = CmaHeap.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true, service = {})
@Designate(ocd = CmaHeapConfig.class)
public final class CmaHeap extends HeapDriver {
    /** The component's name and configuration PID. */
    public static final String PID = "dmabuf.heap.cma";

    private final long sizeMb;
    private final long dmaMask;

    /**
     * Reserves the region and registers the heap.
     *
     * @param context  this bundle's context, for the heap's DmaBufExporter service
     * @param config   the configuration, or its defaults
     * @param registry this bundle's dma-buf registry
     * @param memory   this bundle's physical memory
     * @param logger   this component's logger
     */
    @Activate
    public CmaHeap(BundleContext context, CmaHeapConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "memory") PhysicalMemory memory,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        super(PID, checkName(PID, config.name()), spec(config), context, registry, memory, logger);
        this.sizeMb = config.size_mb();
        this.dmaMask = parseMask(config.dma_mask());
    }

    /** The region of a CMA heap with this configuration. */
    static PoolSpec spec(CmaHeapConfig config) {
        return PoolSpec.contiguous(poolName(checkName(PID, config.name())), poolBytes(PID, config.size_mb()))
                .withDmaMask(parseMask(config.dma_mask()));
    }

    /**
     * Parses {@code dma.mask}: {@code 0x} hexadecimal (up to 64 bits) or decimal; {@code -1} for anywhere.
     *
     * @throws IllegalArgumentException naming the PID for anything else, or for 0 (reaches no memory)
     */
    static long parseMask(String text) {
        long mask;
        try {
            String t = text == null ? "" : text.trim().replace("_", "");
            if (t.startsWith("0x") || t.startsWith("0X")) {
                mask = Long.parseUnsignedLong(t.substring(2), 16);
            } else {
                mask = Long.parseLong(t);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid configuration of " + PID + ": dma.mask='" + text
                    + "' is not a number (use hexadecimal like 0xFFFFFFFF, decimal, or -1 for anywhere)", e);
        }
        if (mask == 0) {
            throw new IllegalArgumentException("invalid configuration of " + PID + ": dma.mask=0 reaches no memory");
        }
        return mask;
    }

    /**
     * Applies a configuration change without revoking anything: a new name re-registers the heap now, a new size or
     * mask applies on restart.
     *
     * @param config the new configuration
     */
    @Modified
    void modified(CmaHeapConfig config) {
        restartOnly("size.mb", Long.toString(sizeMb), Long.toString(config.size_mb()));
        String configuredMask;
        try {
            configuredMask = "0x" + Long.toHexString(parseMask(config.dma_mask()));
        } catch (IllegalArgumentException e) {
            configuredMask = "'" + config.dma_mask() + "' (invalid: " + e.getMessage() + ")";
        }
        restartOnly("dma.mask", "0x" + Long.toHexString(dmaMask), configuredMask);
        rename(config.name());
    }

    /** Removes the heap, revokes its live buffers, closes the region. */
    @Deactivate
    void deactivate() {
        stop();
    }
}
