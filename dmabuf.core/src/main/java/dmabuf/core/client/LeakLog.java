package dmabuf.core.client;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import dmabuf.api.runtime.LeakDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.LeakReportLevel;
import dmabuf.core.buffer.Buffer;

/**
 * Reports what departed bundles still held: one WARN per item naming the bundle, the buffer, its name and its
 * exporter (plus where the buffer was exported, at level ADVANCED), and a bounded history for the runtime DTO.
 */
public final class LeakLog {
    private final CoreLog log;
    private final Supplier<CoreConfig> config;
    private final Deque<LeakDTO> history = new ArrayDeque<>();
    private final AtomicLong reported = new AtomicLong();

    /**
     * @param log    where reports go
     * @param config the settings in force (level and history size)
     */
    public LeakLog(CoreLog log, Supplier<CoreConfig> config) {
        this.log = log;
        this.config = config;
    }

    /** Reports one leaked item of a bundle that went away; the core released it. */
    public void report(Client client, Buffer b, String kind, String detail) {
        record(client, b, kind, detail, " went away holding ", "; the core released it");
    }

    /** Reports references of a buffer the bundle can no longer reach (see {@code LeakDetector}). */
    public void reportDropped(Client client, Buffer b, String detail) {
        record(client, b, LeakDTO.KIND_DROPPED, detail, " dropped ",
                "; they stay counted until the bundle puts them or stops");
    }

    private void record(Client client, Buffer b, String kind, String detail, String verb, String outcome) {
        CoreConfig cfg = config.get();
        if (cfg.leakReportLevel() == LeakReportLevel.DISABLED) {
            return;
        }
        reported.incrementAndGet();
        LeakDTO dto = new LeakDTO();
        dto.kind = kind;
        dto.bundleId = client.bundleId();
        dto.bundleSymbolicName = client.symbolicName();
        dto.bufferId = b.id();
        dto.bufferName = b.currentName();
        dto.exporterName = b.exporterName();
        dto.detail = detail;
        dto.timestamp = System.currentTimeMillis();
        StringBuilder msg = new StringBuilder("LEAK: ").append(client.describe()).append(verb)
                .append(kind).append(" of dma-buf ").append(b.id());
        if (dto.bufferName != null) {
            msg.append(" '").append(dto.bufferName).append('\'');
        }
        msg.append(" (exporter ").append(b.exporterName()).append(", ").append(b.size()).append(" bytes)");
        if (detail != null) {
            msg.append(": ").append(detail);
        }
        msg.append(outcome);
        if (cfg.leakReportLevel().recordsSites() && b.creationSite() != null) {
            StringWriter trace = new StringWriter();
            b.creationSite().printStackTrace(new PrintWriter(trace));
            dto.creationSite = trace.toString();
            msg.append('\n').append(trace);
        }
        log.warn(msg.toString());
        synchronized (history) {
            history.addLast(dto);
            while (history.size() > cfg.leakHistory()) {
                history.removeFirst();
            }
        }
    }

    /** The recent reports, oldest first. */
    public List<LeakDTO> recent() {
        synchronized (history) {
            return List.copyOf(history);
        }
    }

    /** How many items were reported since the core started. */
    public long reportedCount() {
        return reported.get();
    }
}
