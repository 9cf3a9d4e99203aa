package dmabuf.api;

/**
 * The direction of a DMA transfer or CPU access, as {@code enum dma_data_direction}. For CPU access the direction
 * names what the device did or will do: {@link #FROM_DEVICE} before the CPU reads, {@link #TO_DEVICE} before the CPU
 * writes, {@link #BIDIRECTIONAL} for both. The core passes it to the exporter unchanged.
 */
public enum DmaDataDirection {
    /** Data moves both ways. */
    BIDIRECTIONAL(0),
    /** Memory to device: the device reads, the CPU wrote. */
    TO_DEVICE(1),
    /** Device to memory: the device writes, the CPU reads. */
    FROM_DEVICE(2),
    /** No data moves; refused by every operation that transfers data. */
    NONE(3);

    private final int value;

    DmaDataDirection(int value) {
        this.value = value;
    }

    /** The value of the kernel's enum. */
    public int value() {
        return value;
    }

    /** True when a device reads the buffer in this direction (the CPU may have written it). */
    public boolean deviceReads() {
        return this == TO_DEVICE || this == BIDIRECTIONAL;
    }

    /** True when a device writes the buffer in this direction. */
    public boolean deviceWrites() {
        return this == FROM_DEVICE || this == BIDIRECTIONAL;
    }
}
