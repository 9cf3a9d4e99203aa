package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** What one bundle using the registry holds. */
public class ClientDTO extends DTO {
    /** The bundle's id. */
    public long bundleId;
    /** The bundle's symbolic name. */
    public String symbolicName;
    /** Open fds. */
    public int openFds;
    /** Object references (get/export minus put). */
    public long references;
    /** Attachments the bundle has not detached, including ones the core unlinked when their buffer went away. */
    public int attachments;
    /** Held vmaps. */
    public long vmaps;
    /** Open mmaps. */
    public int mmaps;
    /** Open CPU-access brackets. */
    public int cpuAccessBrackets;
    /** Live buffers this bundle exported. */
    public long exportedBuffers;
    /** Their bytes. */
    public long exportedBytes;
}
