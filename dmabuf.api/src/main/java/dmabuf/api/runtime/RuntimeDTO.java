package dmabuf.api.runtime;

import java.util.Map;

import org.osgi.dto.DTO;

/** A snapshot of the core. */
public class RuntimeDTO extends DTO {
    /** The settings in force, by their configuration keys (e.g. {@code fd.limit}, {@code leak.report.level}). */
    public Map<String, Object> configuration;
    /** The change count this snapshot corresponds to. */
    public long changeCount;
    /** Accepted exporter services. */
    public ExporterDTO[] exporters;
    /** Accepted importer services. */
    public ImporterDTO[] importers;
    /** Driver services the core rejected, with the reason. */
    public FailedDriverDTO[] failedDrivers;
    /** Registered dma-heaps. */
    public HeapDTO[] heaps;
    /** Buffers not yet released (live or revoked). */
    public BufferDTO[] buffers;
    /** Linked attachments. */
    public AttachmentDTO[] attachments;
    /** What each bundle using the registry holds. */
    public ClientDTO[] clients;
    /** The most recent leak reports, oldest first (bounded history). */
    public LeakDTO[] leaks;
    /** Buffers not yet released, revoked ones still referenced included. */
    public long totalBuffers;
    /** Bytes of storage not yet released by exporters (a revoked buffer's storage is released at the revoke). */
    public long totalBytes;
    /** The most bytes ever live at once. */
    public long peakBytes;
    /** Buffers exported since the core started. */
    public long exportedBuffers;
    /** Buffers released since the core started (release ran). */
    public long releasedBuffers;
    /** Items reclaimed from bundles that went away while holding them. */
    public long leaksReported;
}
