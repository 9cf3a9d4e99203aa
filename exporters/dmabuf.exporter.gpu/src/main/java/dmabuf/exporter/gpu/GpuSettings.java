package dmabuf.exporter.gpu;

import dmabuf.api.DmaBufUapi;
import dmabuf.api.memory.Placement;
import dmabuf.api.memory.PoolSpec;
import dmabuf.exporter.gpu.api.Gpu;

/**
 * A GPU's settings, typed and in bytes: built from {@link GpuConfig} by {@link #from}, directly by tests.
 *
 * @param name        the device name, not blank
 * @param vramBytes   the VRAM pool's size, a positive multiple of the page size
 * @param vramMask    the VRAM pool's DMA mask (-1: anywhere), not 0
 * @param sysmemBytes the system-memory pool's size, a positive multiple of the page size
 */
record GpuSettings(String name, long vramBytes, long vramMask, long sysmemBytes) {
    /** VRAM is handed out in chunks of at most this many bytes (a GPU's VRAM manager works in 64 KiB pages). */
    static final long VRAM_CHUNK = 64 * 1024;
    /** The mask the system-memory pool is placed under: reachable by 32-bit devices. */
    static final long SYSMEM_MASK = 0xFFFF_FFFFL;
    /** The largest VRAM size in MB the configuration accepts. */
    static final int MAX_VRAM_MB = 65536;
    /** The largest system-memory size in MB: what fits below 4 GiB (ZONE_DMA32 starts at 256 MiB). */
    static final int MAX_SYSMEM_MB = 3840;

    /** Validates; an invalid value is an {@link IllegalArgumentException} naming the key. */
    GpuSettings {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(Gpu.PID + ": name must not be blank");
        }
        if (vramBytes <= 0 || vramBytes % DmaBufUapi.PAGE_SIZE != 0) {
            throw new IllegalArgumentException(Gpu.PID + " '" + name + "': the VRAM size " + vramBytes
                    + " is not a positive multiple of the page size");
        }
        if (sysmemBytes <= 0 || sysmemBytes % DmaBufUapi.PAGE_SIZE != 0) {
            throw new IllegalArgumentException(Gpu.PID + " '" + name + "': the system-memory size " + sysmemBytes
                    + " is not a positive multiple of the page size");
        }
        if (vramMask == 0) {
            throw new IllegalArgumentException(Gpu.PID + " '" + name + "': dma.mask 0 reaches no memory");
        }
    }

    /** The defaults: gpu0, 64 MB VRAM anywhere, 64 MB system memory. */
    static GpuSettings defaults() {
        return new GpuSettings("gpu0", 64L << 20, -1L, 64L << 20);
    }

    /**
     * The settings of a configuration.
     *
     * @throws IllegalArgumentException naming the key and the PID when a value is out of range
     */
    static GpuSettings from(GpuConfig c) {
        String name = c.name() == null ? "" : c.name().trim();
        return new GpuSettings(name, mb("vram.mb", name, c.vram_mb(), MAX_VRAM_MB), parseMask(name, c.dma_mask()),
                mb("sysmem.mb", name, c.sysmem_mb(), MAX_SYSMEM_MB));
    }

    /** The VRAM pool's spec. */
    PoolSpec vramSpec() {
        return new PoolSpec(name + "-vram", vramBytes, Placement.SCATTERED, vramMask, VRAM_CHUNK);
    }

    /** The system-memory pool's spec. */
    PoolSpec sysmemSpec() {
        return new PoolSpec(name + "-sysmem", sysmemBytes, Placement.SCATTERED, SYSMEM_MASK, DmaBufUapi.PAGE_SIZE);
    }

    /** These settings with the VRAM values of {@code other}. */
    GpuSettings withVram(GpuSettings other) {
        return new GpuSettings(name, other.vramBytes, other.vramMask, sysmemBytes);
    }

    /** These settings with the system-memory value of {@code other}. */
    GpuSettings withSysmem(GpuSettings other) {
        return new GpuSettings(name, vramBytes, vramMask, other.sysmemBytes);
    }

    private static long mb(String key, String name, int mb, int max) {
        if (mb < 1 || mb > max) {
            throw new IllegalArgumentException(Gpu.PID + " '" + name + "': " + key + "=" + mb + " is not within 1.."
                    + max);
        }
        return (long) mb << 20;
    }

    /** A mask written in decimal ({@code -1}, {@code 4294967295}) or hex ({@code 0xFFFFFFFF}). */
    static long parseMask(String name, String text) {
        String t = text == null ? "" : text.trim().replace("_", "");
        try {
            long mask;
            if (t.startsWith("0x") || t.startsWith("0X")) {
                mask = Long.parseUnsignedLong(t.substring(2), 16);
            } else if (t.startsWith("-")) {
                mask = Long.parseLong(t);
            } else {
                mask = Long.parseUnsignedLong(t);
            }
            if (mask == 0 || (mask < 0 && mask != -1L && t.startsWith("-"))) {
                throw new NumberFormatException("not a mask");
            }
            return mask;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(Gpu.PID + " '" + name + "': dma.mask '" + text + "' is not a DMA mask "
                    + "(decimal or 0x hex, -1 for 64-bit, not 0)", e);
        }
    }
}
