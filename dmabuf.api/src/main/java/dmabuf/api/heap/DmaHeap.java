package dmabuf.api.heap;

import org.osgi.annotation.versioning.ConsumerType;

import dmabuf.api.DmaBuf;

/**
 * A heap driver's allocate op ({@code struct dma_heap_ops}). The core has validated the request.
 */
@ConsumerType
public interface DmaHeap {
    /**
     * Allocates a zeroed buffer.
     *
     * @param length         the size, already page-aligned and positive
     * @param accessMode     the access mode to export with ({@link dmabuf.api.DmaBufUapi#O_RDONLY},
     *                       {@link dmabuf.api.DmaBufUapi#O_WRONLY} or {@link dmabuf.api.DmaBufUapi#O_RDWR})
     * @param heapFlags      always 0 today (no heap flags are defined)
     * @param callerBundleId the bundle that asked, whose quota the memory is charged to
     * @return a buffer of exactly {@code length} bytes that the heap's bundle exported and holds one reference to;
     *         the core moves that reference into the caller's fd
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#ENOMEM} when the heap cannot give it
     */
    DmaBuf allocate(long length, int accessMode, long heapFlags, long callerBundleId);
}
