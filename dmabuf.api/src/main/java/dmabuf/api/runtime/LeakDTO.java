package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** Something a bundle still held when it went away, reclaimed by the core. */
public class LeakDTO extends DTO {
    /** An open fd. */
    public static final String KIND_FD = "fd";
    /** An object reference. */
    public static final String KIND_REFERENCE = "reference";
    /** An attachment. */
    public static final String KIND_ATTACHMENT = "attachment";
    /** A mapped sg table. */
    public static final String KIND_MAPPING = "sg mapping";
    /** A vmap. */
    public static final String KIND_VMAP = "vmap";
    /** A kmap. */
    public static final String KIND_KMAP = "kmap";
    /** An mmap. */
    public static final String KIND_MMAP = "mmap";
    /** An open CPU-access bracket. */
    public static final String KIND_CPU_ACCESS = "cpu access";

    /** One of the {@code KIND_*} constants. */
    public String kind;
    /** The bundle that held it. */
    public long bundleId;
    /** That bundle's symbolic name. */
    public String bundleSymbolicName;
    /** The buffer's id. */
    public long bufferId;
    /** The buffer's name, or null. */
    public String bufferName;
    /** The buffer's exporter. */
    public String exporterName;
    /** Details, e.g. the fd number or the device. */
    public String detail;
    /** When it was reported, in milliseconds since the epoch. */
    public long timestamp;
}
