package dmabuf.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * The whiteboard service an importer driver registers to describe itself (one per device). The core tracks these
 * services, validates their properties and lists them (or the reason it rejected one) in its runtime DTO.
 * <p>
 * Properties: {@link #NAME} (required, unique among importers), {@link #DEVICE} and {@link #CAPABILITIES} (optional).
 */
@ConsumerType
public interface DmaBufImporter {
    /** Service property: the importer's name, a non-blank String unique among registered importers. */
    String NAME = "dmabuf.importer.name";
    /** Service property: the device the importer drives, a String. */
    String DEVICE = "dmabuf.importer.device";
    /** Service property: what the importer does, Strings such as {@code dynamic}, {@code contiguous}. */
    String CAPABILITIES = "dmabuf.importer.capabilities";
}
