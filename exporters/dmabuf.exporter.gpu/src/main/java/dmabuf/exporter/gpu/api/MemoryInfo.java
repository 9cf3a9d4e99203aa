package dmabuf.exporter.gpu.api;

/**
 * The GPU's two memory pools, a snapshot.
 *
 * @param vramCapacity     the VRAM pool's size in bytes
 * @param vramAvailable    VRAM bytes not allocated
 * @param systemCapacity   the system-memory pool's size in bytes
 * @param systemAvailable  system-memory bytes not allocated
 */
public record MemoryInfo(long vramCapacity, long vramAvailable, long systemCapacity, long systemAvailable) {
}
