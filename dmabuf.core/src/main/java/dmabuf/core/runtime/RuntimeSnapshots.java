package dmabuf.core.runtime;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import dmabuf.api.DmaBufUapi;
import dmabuf.api.runtime.AttachmentDTO;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.api.runtime.ExporterDTO;
import dmabuf.api.runtime.FailedDriverDTO;
import dmabuf.api.runtime.ImporterDTO;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.core.DmaBufCore;
import dmabuf.core.attach.Attachment;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;
import dmabuf.core.client.Holding;

/**
 * Snapshots of the core for people: the runtime DTO and the kernel-style {@code bufinfo} listing. Reads are
 * racy-but-safe (counts may be a moment old); nothing here takes a buffer's lock for long.
 */
public final class RuntimeSnapshots {
    private static final int FMODE_READ = 1;
    private static final int FMODE_WRITE = 2;

    private final DmaBufCore core;

    /** @param core the core */
    public RuntimeSnapshots(DmaBufCore core) {
        this.core = core;
    }

    /** The runtime DTO. */
    public RuntimeDTO runtimeDTO() {
        core.leakDetector().poll(); // reading the DTO is a checkpoint for dropped buffers
        RuntimeDTO dto = new RuntimeDTO();
        dto.changeCount = core.changeCount();
        dto.configuration = core.config().asProperties();
        List<Buffer> buffers = sortedBuffers();
        dto.exporters = core.drivers().exporters(buffers).toArray(new ExporterDTO[0]);
        dto.importers = core.drivers().importers().toArray(new ImporterDTO[0]);
        dto.failedDrivers = core.drivers().failed().toArray(new FailedDriverDTO[0]);
        dto.heaps = core.heaps().dtos().toArray(new dmabuf.api.runtime.HeapDTO[0]);
        List<BufferDTO> bufferDTOs = new ArrayList<>();
        List<AttachmentDTO> attachmentDTOs = new ArrayList<>();
        for (Buffer b : buffers) {
            List<Attachment> attachments = attachmentsOf(b);
            bufferDTOs.add(buffer(b, attachments));
            for (Attachment a : attachments) {
                attachmentDTOs.add(attachment(a));
            }
        }
        dto.buffers = bufferDTOs.toArray(new BufferDTO[0]);
        dto.attachments = attachmentDTOs.toArray(new AttachmentDTO[0]);
        List<ClientDTO> clients = new ArrayList<>();
        for (Client c : core.clients()) {
            clients.add(client(c, buffers));
        }
        clients.sort(Comparator.comparingLong(c -> c.bundleId));
        dto.clients = clients.toArray(new ClientDTO[0]);
        dto.leaks = core.leaks().recent().toArray(new LeakDTO[0]);
        dto.totalBuffers = buffers.size();
        dto.totalBytes = core.buffers().liveBytes();
        dto.peakBytes = core.buffers().peakBytes();
        dto.exportedBuffers = core.buffers().exportedCount();
        dto.releasedBuffers = core.buffers().releasedCount();
        dto.leaksReported = core.leaks().reportedCount();
        return dto;
    }

    /**
     * The {@code bufinfo} listing, in the layout of the kernel's {@code /sys/kernel/debug/dma_buf/bufinfo}: one
     * line per buffer (size, flags, mode, count, exporter, inode, name), its attached devices, and the totals.
     */
    public String bufinfo() {
        StringBuilder sb = new StringBuilder("\nDma-buf Objects:\n");
        sb.append(String.format("%-8s\t%-8s\t%-8s\t%-8s\t%-8s\t%-8s\t%s%n", "size", "flags", "mode", "count",
                "exp_name", "ino", "name"));
        long objects = 0;
        long bytes = 0;
        for (Buffer b : sortedBuffers()) {
            List<Attachment> attachments = attachmentsOf(b);
            String name = b.currentName();
            sb.append(String.format("%08d\t%08x\t%08x\t%08d\t%s\t%08d\t%s%s%n", b.size(), b.exportFlags(),
                    mode(b.exportFlags()), b.refCount(), b.exporterName(), b.id(), name == null ? "<none>" : name,
                    b.state() == Buffer.State.LIVE ? "" : " (" + b.state().name().toLowerCase() + ")"));
            sb.append(dmabuf.core.sync.FenceService.describeForBufinfo(b.resv()));
            sb.append("\tAttached Devices:\n");
            for (Attachment a : attachments) {
                sb.append('\t').append(a.device().name()).append('\n');
            }
            sb.append("Total ").append(attachments.size()).append(" devices attached\n\n");
            objects++;
            bytes += b.size();
        }
        sb.append("\nTotal ").append(objects).append(" objects, ").append(bytes).append(" bytes\n");
        return sb.toString();
    }

    private List<Buffer> sortedBuffers() {
        List<Buffer> buffers = new ArrayList<>(core.buffers().all());
        buffers.sort(Comparator.comparingLong(Buffer::id));
        return buffers;
    }

    private List<Attachment> attachmentsOf(Buffer b) {
        try {
            return b.attachmentsSnapshot(core.config().lockTimeoutMillis());
        } catch (RuntimeException busy) {
            return List.of(); // the listing must never fail because one buffer is stuck
        }
    }

    private static int mode(int flags) {
        int acc = flags & DmaBufUapi.O_ACCMODE;
        return (acc == DmaBufUapi.O_WRONLY ? 0 : FMODE_READ) | (acc == DmaBufUapi.O_RDONLY ? 0 : FMODE_WRITE);
    }

    private static BufferDTO buffer(Buffer b, List<Attachment> attachments) {
        BufferDTO dto = new BufferDTO();
        dto.id = b.id();
        dto.size = b.size();
        dto.flags = b.exportFlags();
        dto.mode = mode(b.exportFlags());
        dto.count = b.refCount();
        dto.exporterName = b.exporterName();
        dto.exporterBundleId = b.owner().bundleId();
        dto.name = b.currentName();
        dto.attachedDevices = attachments.stream().map(a -> a.device().name()).toArray(String[]::new);
        dto.vmapCount = b.vmapCount();
        dto.fences = dmabuf.core.sync.FenceService.fenceDTOs(b.resv());
        dto.state = b.state() == Buffer.State.LIVE ? BufferDTO.STATE_LIVE : BufferDTO.STATE_REVOKED;
        return dto;
    }

    private static AttachmentDTO attachment(Attachment a) {
        AttachmentDTO dto = new AttachmentDTO();
        dto.bufferId = a.buffer().id();
        dto.device = a.device().name();
        dto.bundleId = a.client().bundleId();
        dto.dynamic = a.isDynamic();
        dto.mappedTables = a.mappedTableCount();
        dto.pins = a.pinCount();
        return dto;
    }

    private static ClientDTO client(Client c, List<Buffer> buffers) {
        ClientDTO dto = new ClientDTO();
        dto.bundleId = c.bundleId();
        dto.symbolicName = c.symbolicName();
        dto.openFds = c.files().openCount();
        dto.attachments = c.attachments().size();
        dto.mmaps = c.mmaps().size();
        for (Map.Entry<Buffer, Holding> e : c.holdings().entrySet()) {
            Holding h = e.getValue();
            dto.references += h.refs();
            dto.vmaps += h.vmaps();
            dto.cpuAccessBrackets += h.brackets().size();
        }
        for (Buffer b : buffers) {
            if (b.owner() == c && b.state() == Buffer.State.LIVE) {
                dto.exportedBuffers++;
                dto.exportedBytes += b.size();
            }
        }
        return dto;
    }
}
