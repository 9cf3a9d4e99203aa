package dmabuf.heap.memfd;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The configuration of PID {@value MemfdHeap#PID} (factory-less). A change applies without revoking any buffer: a
 * new name re-registers the heap at once, a new limit applies to the next allocation.
 */
@ObjectClassDefinition(id = MemfdHeap.PID, name = "dma-heap: memfd",
        description = "A dma-heap whose every buffer is a sealed memfd: a real Linux file a native process can "
                + "receive over a Unix socket and map, sharing the pages with no copy.")
public @interface MemfdHeapConfig {
    /** @return the heap's name */
    @AttributeDefinition(name = "name",
            description = "The heap's name under /dev/dma_heap/: not empty, no '/'. Its exporter is 'heap:<name>'.")
    String name() default "memfd";

    /** @return the most live bytes the heap gives, in MiB */
    @AttributeDefinition(name = "limit (MiB)", min = "1", max = "1048576",
            description = "The most memory all live buffers of the heap may have together, in MiB; an allocation "
                    + "beyond it is ENOMEM. Applies to the next allocation.")
    long limit_mb() default 256;
}
