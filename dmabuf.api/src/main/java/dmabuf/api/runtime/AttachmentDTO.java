package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** One linked attachment. */
public class AttachmentDTO extends DTO {
    /** The buffer's id. */
    public long bufferId;
    /** The device's name. */
    public String device;
    /** The bundle that attached. */
    public long bundleId;
    /** True for a dynamic importer. */
    public boolean dynamic;
    /** Tables currently mapped (the cached one included). */
    public int mappedTables;
    /** Pins currently held. */
    public int pins;
}
