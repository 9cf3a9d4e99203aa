package dmabuf.heap.memfd;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The configuration of PID {@value KernelDmaHeaps#PID}. A change restarts the component (revoking its buffers). */
@ObjectClassDefinition(id = KernelDmaHeaps.PID, name = "dma-heap: the kernel's",
        description = "The kernel's own dma-heaps (/dev/dma_heap/*), each registered as a heap here: real kernel "
                + "dma-bufs allocated with DMA_HEAP_IOCTL_ALLOC, CPU access bracketed with DMA_BUF_IOCTL_SYNC.")
public @interface KernelHeapsConfig {
    /** @return the directory of the kernel's heaps */
    @AttributeDefinition(name = "directory", description = "Where the kernel's heap devices are.")
    String dir() default "/dev/dma_heap";

    /** @return the prefix of their names here */
    @AttributeDefinition(name = "name prefix",
            description = "Prefixed to each kernel heap's name, so 'system' does not clash with the simulated one.")
    String prefix() default "kernel-";
}
