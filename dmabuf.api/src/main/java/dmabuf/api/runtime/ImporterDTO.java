package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** An accepted importer service. */
public class ImporterDTO extends DTO {
    /** {@code dmabuf.importer.name}. */
    public String name;
    /** {@code dmabuf.importer.device}, or null. */
    public String device;
    /** {@code dmabuf.importer.capabilities}. */
    public String[] capabilities;
    /** The service's id. */
    public long serviceId;
    /** The registering bundle. */
    public long bundleId;
}
