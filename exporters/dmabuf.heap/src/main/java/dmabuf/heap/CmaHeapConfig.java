package dmabuf.heap;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The configuration of PID {@value CmaHeap#PID} (factory-less: there is one CMA heap), a component property type
 * with Metatype so consoles and FileInstall can edit it.
 * <p>
 * A change applies without revoking any buffer: a new {@code name} re-registers the heap under it at once (live
 * buffers keep working); a new {@code size.mb} or {@code dma.mask} takes effect the next time the heap starts, since
 * the region of the running heap holds the pages of live buffers.
 */
@ObjectClassDefinition(id = CmaHeap.PID, name = "dma-heap: CMA",
        description = "The CMA heap (/dev/dma_heap/<name>): zeroed buffers that are each one physically contiguous "
                + "run, from a region reserved when the heap starts, by default below 4 GiB so devices with 32-bit "
                + "DMA masks and no IOMMU can use them; each allocation is charged to the bundle that asked.")
public @interface CmaHeapConfig {
    /** @return the heap's name */
    @AttributeDefinition(name = "name",
            description = "The heap's name under /dev/dma_heap/: not empty, no '/'. Changing it re-registers the "
                    + "heap under the new name; live buffers stay usable.")
    String name() default "reserved";

    /** @return the region size in MiB */
    @AttributeDefinition(name = "size (MiB)", min = "1", max = "1048576",
            description = "The contiguous region the heap reserves (pre-faulted) when it starts, in MiB. A change "
                    + "takes effect on restart.")
    long size_mb() default 64;

    /** @return the region's DMA mask */
    @AttributeDefinition(name = "DMA mask",
            description = "The highest physical address of the region: hexadecimal with 0x (0xFFFFFFFF: below "
                    + "4 GiB, the usual place of CMA) or decimal; -1 for anywhere. A change takes effect on restart.")
    String dma_mask() default "0xFFFFFFFF";
}
