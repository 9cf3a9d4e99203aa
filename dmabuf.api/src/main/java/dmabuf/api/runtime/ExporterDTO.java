package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** An accepted exporter service. */
public class ExporterDTO extends DTO {
    /** {@code dmabuf.exporter.name}. */
    public String name;
    /** {@code dmabuf.exporter.device}, or null. */
    public String device;
    /** {@code dmabuf.exporter.capabilities}. */
    public String[] capabilities;
    /** The service's id. */
    public long serviceId;
    /** The registering bundle. */
    public long bundleId;
    /** Live buffers exported under this name. */
    public long buffers;
    /** Their bytes. */
    public long bytes;
}
