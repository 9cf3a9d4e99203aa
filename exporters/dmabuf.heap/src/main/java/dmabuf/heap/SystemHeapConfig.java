package dmabuf.heap;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The configuration of PID {@value SystemHeap#PID} (factory-less: there is one system heap), a component property
 * type with Metatype so consoles and FileInstall can edit it.
 * <p>
 * A change applies without revoking any buffer: a new {@code name} re-registers the heap under it at once (live
 * buffers keep working); a new {@code size.mb} takes effect the next time the heap starts, since the pool of the
 * running heap holds the pages of live buffers.
 */
@ObjectClassDefinition(id = SystemHeap.PID, name = "dma-heap: system",
        description = "The system heap (/dev/dma_heap/<name>): zeroed buffers of scattered system pages, taken in "
                + "chunks of up to 1 MiB from a pool reserved when the heap starts; each allocation is charged to the "
                + "bundle that asked.")
public @interface SystemHeapConfig {
    /** @return the heap's name */
    @AttributeDefinition(name = "name",
            description = "The heap's name under /dev/dma_heap/: not empty, no '/'. Changing it re-registers the "
                    + "heap under the new name; live buffers stay usable.")
    String name() default "system";

    /** @return the pool size in MiB */
    @AttributeDefinition(name = "size (MiB)", min = "1", max = "1048576",
            description = "The memory the heap reserves (pre-faulted) when it starts, in MiB. A change takes effect "
                    + "on restart.")
    long size_mb() default 256;
}
