package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/**
 * A leak the core found: something a bundle still held when it went away (reclaimed by the core), or a buffer a
 * bundle dropped without putting its references ({@link #KIND_DROPPED}, found by the garbage collector; only
 * reported, the bundle's stop reclaims it).
 */
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
    /**
     * Object references of a buffer whose every DmaBuf object became unreachable before they were put (the bundle
     * still runs; its stop reclaims them).
     */
    public static final String KIND_DROPPED = "dropped";

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
    /** Where the buffer was exported (a stack trace), when the leak level records sites; else null. */
    public String creationSite;
    /** When it was reported, in milliseconds since the epoch. */
    public long timestamp;
}
