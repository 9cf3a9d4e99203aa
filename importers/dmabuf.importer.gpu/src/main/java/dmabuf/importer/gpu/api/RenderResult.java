package dmabuf.importer.gpu.api;

/**
 * What one render did.
 *
 * @param sourceAccess how the source was read: {@code "vmap"} or {@code "kmap"} (the exporter had no vmap)
 * @param targetAccess how the target was written: {@code "vmap"} or {@code "kmap"}
 * @param bytesCopied  bytes of frame data copied on the way (0: the kernel reads and writes in place)
 */
public record RenderResult(String sourceAccess, String targetAccess, long bytesCopied) {
}
