package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** One buffer, with the columns of the kernel's {@code bufinfo}. */
public class BufferDTO extends DTO {
    /** The buffer is live. */
    public static final String STATE_LIVE = "LIVE";
    /** The exporter revoked the buffer; references remain. */
    public static final String STATE_REVOKED = "REVOKED";

    /** The unique id ({@code ino}). */
    public long id;
    /** The size in bytes. */
    public long size;
    /** The file flags of the export (access mode). */
    public int flags;
    /** The file mode bits (read 1, write 2) the export allows. */
    public int mode;
    /** All references: fds, object references and mappings. */
    public long count;
    /** The exporter's name. */
    public String exporterName;
    /** The bundle that exported it. */
    public long exporterBundleId;
    /** The name set with SET_NAME, or null. */
    public String name;
    /** The names of the attached devices. */
    public String[] attachedDevices;
    /** The vmap count. */
    public long vmapCount;
    /** The fences in its reservation object (signalled ones included until replaced). */
    public FenceDTO[] fences;
    /** {@link #STATE_LIVE} or {@link #STATE_REVOKED}. */
    public String state;
}
