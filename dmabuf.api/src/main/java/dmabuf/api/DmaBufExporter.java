package dmabuf.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The whiteboard service an exporter driver registers to describe itself (one per device). The core tracks these
 * services, validates their properties, lists them (or the reason it rejected one) in its runtime DTO, and revokes
 * every buffer exported under a service's {@link #NAME} when that service goes away. A change of the service's
 * properties (a configuration change) revokes nothing.
 * <p>
 * Properties: {@link #NAME} (required, unique among exporters), {@link #DEVICE} and {@link #CAPABILITIES} (optional).
 */
@ConsumerType
public interface DmaBufExporter {
    /** Service property: the exporter's name, a non-blank String unique among registered exporters. */
    String NAME = "dmabuf.exporter.name";
    /** Service property: the device the exporter drives, a String, e.g. {@code "gpu0"}. */
    String DEVICE = "dmabuf.exporter.device";
    /** Service property: what the exporter supports, Strings such as {@code vmap}, {@code mmap}, {@code pin}. */
    String CAPABILITIES = "dmabuf.exporter.capabilities";
}
