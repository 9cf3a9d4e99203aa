package dmabuf.core.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dmabuf.api.runtime.LeakDTO;
import dmabuf.core.DmaBufCore;
import dmabuf.core.attach.Attachment;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.mmap.Mapping;

/**
 * DOC: bundle death. When a bundle stops (or ungets the registry), the core is the last line of defence: the
 * buffers it exported are revoked (importers are told, later operations fail with ENODEV), and everything it still
 * held is released in dependency order (kmaps, CPU-access brackets, vmaps, attachments with their tables, mmaps,
 * fds, references), each item reported once as a leak.
 */
public final class Reclaimer {
    private final DmaBufCore core;

    /** @param core the core */
    public Reclaimer(DmaBufCore core) {
        this.core = core;
    }

    /** Reclaims everything a closed client held. */
    public void reclaim(Client client) {
        core.heaps().removeAll(client);
        for (Buffer b : List.copyOf(core.buffers().all())) {
            if (b.owner() == client) {
                core.lifecycle().revoke(b, "its exporter " + client.describe() + " went away");
            }
        }
        List<Map.Entry<Buffer, Holding.Snapshot>> held = new ArrayList<>();
        for (Map.Entry<Buffer, Holding> e : List.copyOf(client.holdings().entrySet())) {
            held.add(Map.entry(e.getKey(), e.getValue().drain()));
        }
        LeakLog leaks = core.leaks();
        for (Map.Entry<Buffer, Holding.Snapshot> e : held) {
            Buffer b = e.getKey();
            Holding.Snapshot s = e.getValue();
            for (Holding.Kmap k : s.kmaps()) {
                leaks.report(client, b, LeakDTO.KIND_KMAP, "page " + k.pageIndex() + (k.atomic() ? " (atomic)" : ""));
                quietly(() -> core.cpuAccess().unmapPage(b, k));
            }
            for (Holding.Bracket br : s.brackets()) {
                leaks.report(client, b, LeakDTO.KIND_CPU_ACCESS, br.direction() + " [" + br.offset() + ", +"
                        + br.length() + ")");
                quietly(() -> core.cpuAccess().endForReclaim(b, br));
            }
            if (s.vmaps() > 0) {
                leaks.report(client, b, LeakDTO.KIND_VMAP, s.vmaps() + " vmap(s)");
                quietly(() -> core.vmaps().reclaim(b, s.vmaps()));
            }
        }
        for (Attachment a : List.copyOf(client.attachments())) {
            int tables = a.mappedTableCount();
            leaks.report(client, a.buffer(), LeakDTO.KIND_ATTACHMENT, "device '" + a.device().name() + "'");
            if (tables > 0) {
                leaks.report(client, a.buffer(), LeakDTO.KIND_MAPPING, tables + " table(s) mapped for device '"
                        + a.device().name() + "'");
            }
            quietly(() -> core.attachments().reclaim(a));
        }
        for (Mapping m : List.copyOf(client.mmaps())) {
            leaks.report(client, m.buffer(), LeakDTO.KIND_MMAP, "[" + m.offset() + ", +" + m.length() + ")");
            quietly(m::close);
        }
        for (int fd : client.files().openFds()) {
            Buffer b = client.files().get(fd).buffer();
            leaks.report(client, b, LeakDTO.KIND_FD, "fd " + fd);
            quietly(() -> core.lifecycle().close(client, fd));
        }
        for (Map.Entry<Buffer, Holding.Snapshot> e : held) {
            long refs = e.getValue().refs();
            if (refs > 0) {
                leaks.report(client, e.getKey(), LeakDTO.KIND_REFERENCE, refs + " reference(s)");
                for (long i = 0; i < refs; i++) {
                    quietly(() -> core.lifecycle().dropRef(e.getKey()));
                }
            }
        }
        for (Buffer b : List.copyOf(client.holdings().keySet())) {
            client.forget(b);
            b.holders().remove(client);
        }
    }

    private void quietly(Runnable step) {
        core.guard().quietly("the core", "reclaim", step);
    }
}
