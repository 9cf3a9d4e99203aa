package dmabuf.exporter.gpu;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dmabuf.exporter.gpu.api.Gpu;

/**
 * The configuration of one simulated GPU: a factory configuration of PID {@value Gpu#PID} per device, as a component
 * property type with Metatype so consoles and FileInstall ({@code dmabuf.exporter.gpu-<alias>.cfg}) can edit it.
 * A change is applied without touching live buffers; what live buffers make impossible is logged and kept (see
 * {@link GpuDevice#reconfigure}).
 */
@ObjectClassDefinition(id = Gpu.PID, name = "dma-buf simulated GPU",
        description = "A simulated GPU with its own VRAM and a system-memory pool below 4 GiB: buffer objects are "
                + "placed at first use, exported with PRIME as dynamic dma-bufs, and migrated to system memory "
                + "when a device that cannot reach VRAM attaches.")
public @interface GpuConfig {
    /** @return the device name */
    @AttributeDefinition(name = "name", description = "The device's name: its dmabuf.exporter.name and the prefix of "
            + "its pool names. Unique among exporters. Fixed while the device runs.")
    String name() default "gpu0";

    /** @return the VRAM size */
    @AttributeDefinition(name = "VRAM (MB)", min = "1", max = "65536",
            description = "The size of the VRAM pool (scattered, 64 KiB chunks). Changed only while no object "
                    + "occupies VRAM.")
    int vram_mb() default 64;

    /** @return the VRAM aperture's DMA mask */
    @AttributeDefinition(name = "DMA mask",
            description = "The highest bus address of the VRAM aperture, decimal or 0x hex: -1 (64-bit) places VRAM "
                    + "anywhere, which is above 4 GiB, out of reach of 32-bit devices; 0xFFFFFFFF places it below "
                    + "4 GiB. Changed only while no object occupies VRAM.")
    String dma_mask() default "-1";

    /** @return the system-memory size */
    @AttributeDefinition(name = "system memory (MB)", min = "1", max = "3840",
            description = "The size of the system-memory pool objects migrate to (scattered 4 KiB pages, below "
                    + "4 GiB so 32-bit devices reach it). Changed only while no object occupies it.")
    int sysmem_mb() default 64;
}
