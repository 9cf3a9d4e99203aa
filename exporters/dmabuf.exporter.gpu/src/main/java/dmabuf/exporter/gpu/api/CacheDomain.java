package dmabuf.exporter.gpu.api;

/** Which side owns an object's bytes as far as caches go (GEM's read/write domains, reduced to two). */
public enum CacheDomain {
    /** The CPU: inside a CPU-access bracket, or before the GPU or a device touched the object. */
    CPU,
    /** The GPU or another device: after a device mapping or a GPU write, and after the last CPU access ended. */
    GPU
}
