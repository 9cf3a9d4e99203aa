package dmabuf.api;

/**
 * What an exporter gives {@link DmaBufRegistry#export}, as the kernel's {@code struct dma_buf_export_info} built with
 * {@code DEFINE_DMA_BUF_EXPORT_INFO}: the defaults are filled in so a driver cannot forget them, and the parts that
 * identify the exporter are not the driver's to choose.
 * <ul>
 * <li>The <b>owner</b> is always the bundle that calls export; there is no field for it.</li>
 * <li>The <b>exporter name</b> defaults to that bundle's symbolic name. A bundle that registered a
 * {@link DmaBufExporter} service may name it instead ({@link Builder#exporter(String)}); its buffers are then revoked
 * when that service goes away. Any other name is {@link Errno#EINVAL}, so a driver cannot pass as another.</li>
 * <li>The <b>flags</b> are the access mode of the buffer's file, default {@link DmaBufUapi#O_RDWR}.</li>
 * </ul>
 * This is a plain value: the core validates it at export (ops present, size positive, flags known).
 */
public final class ExportInfo {
    private final DmaBufOps ops;
    private final long size;
    private final int flags;
    private final String exporter;
    private final String name;

    private ExportInfo(Builder b) {
        this.ops = b.ops;
        this.size = b.size;
        this.flags = b.flags;
        this.exporter = b.exporter;
        this.name = b.name;
    }

    /**
     * Starts an export description with the defaults.
     *
     * @param ops  the exporter's ops for this buffer
     * @param size the buffer's size in bytes, positive and invariant
     * @return a builder
     */
    public static Builder builder(DmaBufOps ops, long size) {
        return new Builder(ops, size);
    }

    /** The exporter's ops. */
    public DmaBufOps ops() {
        return ops;
    }

    /** The size in bytes. */
    public long size() {
        return size;
    }

    /** The file access mode ({@link DmaBufUapi#O_RDONLY}, {@link DmaBufUapi#O_WRONLY} or {@link DmaBufUapi#O_RDWR}). */
    public int flags() {
        return flags;
    }

    /** The registered exporter service's name this buffer belongs to, or null for the bundle's symbolic name. */
    public String exporter() {
        return exporter;
    }

    /** An initial name, as if set with SET_NAME right after export, or null. */
    public String name() {
        return name;
    }

    /** Builds an {@link ExportInfo}; every setter is optional. */
    public static final class Builder {
        private final DmaBufOps ops;
        private final long size;
        private int flags = DmaBufUapi.O_RDWR;
        private String exporter;
        private String name;

        private Builder(DmaBufOps ops, long size) {
            this.ops = ops;
            this.size = size;
        }

        /** Sets the file access mode; default {@link DmaBufUapi#O_RDWR}. */
        public Builder flags(int accessMode) {
            this.flags = accessMode;
            return this;
        }

        /** Names the {@link DmaBufExporter} service of the calling bundle this buffer belongs to. */
        public Builder exporter(String exporterServiceName) {
            this.exporter = exporterServiceName;
            return this;
        }

        /** Sets an initial name (at most 31 bytes of UTF-8). */
        public Builder name(String bufferName) {
            this.name = bufferName;
            return this;
        }

        /** The export description. */
        public ExportInfo build() {
            return new ExportInfo(this);
        }
    }
}
