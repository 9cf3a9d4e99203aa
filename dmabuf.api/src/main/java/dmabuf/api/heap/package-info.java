/**
 * dma-heaps: named allocators of dma-bufs, as the kernel's {@code /dev/dma_heap/<name>}.
 *
 * <h2>DOC: the protocol</h2>
 * A heap driver implements {@link dmabuf.api.heap.DmaHeap} and registers it under a name with
 * {@link dmabuf.api.DmaBufRegistry#addHeap} ({@code dma_heap_add}); an empty or duplicate name is
 * {@link dmabuf.api.Errno#EINVAL}. Any bundle allocates with {@link dmabuf.api.DmaBufRegistry#heapAllocate}
 * ({@code DMA_HEAP_IOCTL_ALLOC}) and gets an fd in its own file table. The core checks the request as the kernel does
 * before the heap sees it: a length that is 0 or wraps when page-aligned, fd flags other than close-on-exec and an
 * access mode, or any heap flag is {@link dmabuf.api.Errno#EINVAL}; an unknown heap is
 * {@link dmabuf.api.Errno#ENOENT}. The heap exports a zeroed buffer of exactly the page-aligned length from its own
 * bundle and returns it holding one reference, which the core moves into the caller's new fd. A heap's registration
 * ends when it is closed or when the heap's bundle goes away.
 */
@Version("1.0.0")
@Export
package dmabuf.api.heap;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
