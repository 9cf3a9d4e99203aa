package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** A registered dma-heap. */
public class HeapDTO extends DTO {
    /** The heap's name. */
    public String name;
    /** The bundle that registered it. */
    public long bundleId;
}
