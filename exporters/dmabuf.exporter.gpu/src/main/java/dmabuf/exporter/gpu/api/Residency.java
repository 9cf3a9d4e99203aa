package dmabuf.exporter.gpu.api;

/** Where a buffer object's storage resides. */
public enum Residency {
    /** No storage yet: placement is deferred until the first use that needs memory. */
    UNPLACED,
    /** The GPU's own memory: a scattered pool of 64 KiB chunks. */
    VRAM,
    /** System memory below 4 GiB, in 4 KiB pages, reachable by 32-bit devices. */
    SYSTEM
}
