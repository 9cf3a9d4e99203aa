package dmabuf.exporter.gpu.api;

/**
 * What the driver knows about one buffer object, a snapshot.
 *
 * @param handle          the object's handle
 * @param size            its size in bytes, whole pages
 * @param placement       where its storage is
 * @param domain          the cache domain it is in
 * @param flushCount      CPU cache flushes: ends of CPU access that wrote
 * @param invalidateCount CPU cache invalidations: begins of CPU access after GPU or device writes
 * @param pinCount        pins held on its dma-buf (by dynamic importers, and by the core for static importers)
 * @param exported        true while a dma-buf exported from it is alive
 * @param attachments     devices attached to its dma-buf
 * @param mappedTables    scatter-gather tables mapped for those devices now
 * @param migrations      how often its storage moved (VRAM to system memory)
 */
public record ObjectInfo(int handle, long size, Residency placement, CacheDomain domain, long flushCount,
        long invalidateCount, int pinCount, boolean exported, int attachments, int mappedTables, long migrations) {
}
