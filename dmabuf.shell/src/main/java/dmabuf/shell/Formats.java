package dmabuf.shell;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dmabuf.api.runtime.AttachmentDTO;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.api.runtime.ExporterDTO;
import dmabuf.api.runtime.FailedDriverDTO;
import dmabuf.api.runtime.HeapDTO;
import dmabuf.api.runtime.ImporterDTO;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * The console text of each command, from the DTOs alone (pure functions, so they are unit tested without a
 * framework). Arrays in DTOs may be null when the producer had nothing to say: treated as empty.
 */
final class Formats {
    private Formats() {
    }

    /** The kernel's {@code bufinfo} table of the buffers not yet released, and the totals. */
    static String buffers(RuntimeDTO rt) {
        BufferDTO[] buffers = nonNull(rt.buffers, BufferDTO[]::new);
        if (buffers.length == 0) {
            return "no buffers (exported " + rt.exportedBuffers + ", released " + rt.releasedBuffers + ")\n";
        }
        Table table = new Table(">id", ">size", ">flags", ">mode", ">count", "exporter", ">exp.bundle", "name",
                ">vmaps", "state", "attached devices");
        for (BufferDTO b : buffers) {
            table.row(b.id, b.size, String.format("%08o", b.flags), String.format("%08o", b.mode), b.count,
                    b.exporterName, b.exporterBundleId, b.name, b.vmapCount, b.state, devices(b.attachedDevices));
        }
        return table + "total: " + rt.totalBuffers + " buffer(s), " + bytes(rt.totalBytes) + "\n";
    }

    /** One buffer in detail: its bufinfo columns and its attachments; a clear line if there is no such buffer. */
    static String buffer(RuntimeDTO rt, long id) {
        BufferDTO buffer = Stream.of(nonNull(rt.buffers, BufferDTO[]::new)).filter(b -> b.id == id).findFirst()
                .orElse(null);
        if (buffer == null) {
            return "no buffer " + id + " (ids of the buffers not yet released: "
                    + Stream.of(nonNull(rt.buffers, BufferDTO[]::new)).map(b -> String.valueOf(b.id))
                            .collect(Collectors.joining(", ")).transform(s -> s.isEmpty() ? "none" : s)
                    + ")\n";
        }
        StringBuilder out = new StringBuilder();
        out.append("buffer ").append(buffer.id).append(buffer.name == null ? "" : " '" + buffer.name + "'")
                .append('\n');
        field(out, "size", buffer.size + " (" + bytes(buffer.size) + ")");
        field(out, "exporter", buffer.exporterName + " (bundle " + buffer.exporterBundleId + ")");
        field(out, "state", buffer.state);
        field(out, "flags", String.format("%08o", buffer.flags));
        field(out, "mode", String.format("%08o", buffer.mode));
        field(out, "references", String.valueOf(buffer.count));
        field(out, "vmaps", String.valueOf(buffer.vmapCount));
        AttachmentDTO[] attachments = Stream.of(nonNull(rt.attachments, AttachmentDTO[]::new))
                .filter(a -> a.bufferId == id).toArray(AttachmentDTO[]::new);
        if (attachments.length == 0) {
            field(out, "attachments", "none");
        } else {
            Table table = new Table("device", ">bundle", "dynamic", ">mapped tables", ">pins");
            for (AttachmentDTO a : attachments) {
                table.row(a.device, a.bundleId, a.dynamic ? "yes" : "no", a.mappedTables, a.pins);
            }
            out.append("attachments:\n").append(indent(table.toString()));
        }
        return out.toString();
    }

    /** The accepted exporters, then the rejected ones with the reason. */
    static String exporters(RuntimeDTO rt) {
        Table table = new Table("name", "device", "capabilities", ">service", ">bundle", ">buffers", ">bytes");
        for (ExporterDTO e : nonNull(rt.exporters, ExporterDTO[]::new)) {
            table.row(e.name, e.device, devices(e.capabilities), e.serviceId, e.bundleId, e.buffers, bytes(e.bytes));
        }
        return (table.isEmpty() ? "no exporters\n" : table.toString()) + failed(rt, "exporter");
    }

    /** The accepted importers, then the rejected ones with the reason. */
    static String importers(RuntimeDTO rt) {
        Table table = new Table("name", "device", "capabilities", ">service", ">bundle");
        for (ImporterDTO i : nonNull(rt.importers, ImporterDTO[]::new)) {
            table.row(i.name, i.device, devices(i.capabilities), i.serviceId, i.bundleId);
        }
        return (table.isEmpty() ? "no importers\n" : table.toString()) + failed(rt, "importer");
    }

    /** The registered dma-heaps. */
    static String heaps(RuntimeDTO rt) {
        Table table = new Table("name", ">bundle");
        for (HeapDTO h : nonNull(rt.heaps, HeapDTO[]::new)) {
            table.row(h.name, h.bundleId);
        }
        return table.isEmpty() ? "no heaps\n" : table.toString();
    }

    /** The accounting: totals since the core started, then what each bundle holds. */
    static String stats(RuntimeDTO rt) {
        StringBuilder out = new StringBuilder();
        field(out, "live buffers", rt.totalBuffers + " (" + bytes(rt.totalBytes) + ")");
        field(out, "peak", bytes(rt.peakBytes));
        field(out, "exported", String.valueOf(rt.exportedBuffers));
        field(out, "released", String.valueOf(rt.releasedBuffers));
        field(out, "leaks reported", String.valueOf(rt.leaksReported));
        Table table = new Table(">bundle", "name", ">fds", ">refs", ">attach", ">vmaps", ">mmaps", ">cpu",
                ">exported", ">bytes");
        for (ClientDTO c : nonNull(rt.clients, ClientDTO[]::new)) {
            table.row(c.bundleId, c.symbolicName, c.openFds, c.references, c.attachments, c.vmaps, c.mmaps,
                    c.cpuAccessBrackets, c.exportedBuffers, bytes(c.exportedBytes));
        }
        if (!table.isEmpty()) {
            out.append("held by bundle:\n").append(indent(table.toString()));
        }
        return out.toString();
    }

    /** The core's recent leak reports, oldest first; "no leaks" when there are none. */
    static String leaks(RuntimeDTO rt) {
        LeakDTO[] leaks = nonNull(rt.leaks, LeakDTO[]::new);
        if (leaks.length == 0) {
            return "no leaks reported\n";
        }
        Table table = new Table("kind", ">bundle", "bundle name", ">buffer", "buffer name", "exporter", "detail");
        for (LeakDTO l : leaks) {
            table.row(l.kind, l.bundleId, l.bundleSymbolicName, l.bufferId, l.bufferName, l.exporterName, l.detail);
        }
        return table.toString() + rt.leaksReported + " leak(s) reported since the core started\n";
    }

    /** A pipeline run: state, progress, throughput, copies, holdings, last CRC, and a line per stage. */
    static String pipeline(PipelineStatusDTO s) {
        StringBuilder out = new StringBuilder();
        field(out, "state", s.state + (s.failure == null ? "" : ": " + s.failure));
        field(out, "frames", s.framesDone + (s.framesRequested > 0 ? " of " + s.framesRequested : " (until stopped)")
                + (s.format == null ? "" : ", " + s.width + "x" + s.height + " " + s.format));
        field(out, "fps", String.format(Locale.ROOT, "%.1f over %d ms", s.framesPerSecond, s.elapsedMillis));
        field(out, "bytes copied", String.valueOf(s.bytesCopied));
        field(out, "live buffers", s.liveBuffers + " (" + bytes(s.liveBytes) + ")");
        field(out, "last frame crc", s.lastFrameCrc < 0 ? "none yet"
                : String.format("0x%08x (frame %d)", s.lastFrameCrc, s.lastFrameNumber));
        Table table = new Table("stage", "device", ">frames", ">p50 us", ">p99 us", "output");
        for (PipelineStatusDTO.StageDTO st : nonNull(s.stages, PipelineStatusDTO.StageDTO[]::new)) {
            table.row(st.name, st.device, st.frames, String.format(Locale.ROOT, "%.0f", st.latencyP50Micros),
                    String.format(Locale.ROOT, "%.0f", st.latencyP99Micros), st.output);
        }
        if (!table.isEmpty()) {
            out.append(table);
        }
        return out.toString();
    }

    /** Bytes for a person: B, KiB, MiB or GiB with one decimal. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    private static String failed(RuntimeDTO rt, String kind) {
        Table table = new Table("rejected " + kind, ">service", ">bundle", "why");
        for (FailedDriverDTO f : nonNull(rt.failedDrivers, FailedDriverDTO[]::new)) {
            if (kind.equals(f.kind)) {
                table.row(f.name, f.serviceId, f.bundleId, f.failureMessage);
            }
        }
        return table.isEmpty() ? "" : table.toString();
    }

    private static String devices(String[] names) {
        return names == null || names.length == 0 ? "-" : String.join(",", Arrays.asList(names));
    }

    private static void field(StringBuilder out, String name, String value) {
        out.append(String.format("%-15s %s\n", name + ":", value));
    }

    private static String indent(String text) {
        return text.lines().map(l -> "  " + l).collect(Collectors.joining("\n", "", "\n"));
    }

    private static <T> T[] nonNull(T[] array, java.util.function.IntFunction<T[]> empty) {
        return array == null ? empty.apply(0) : array;
    }
}
