package dmabuf.itests;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import dmabuf.api.runtime.ClientDTO;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.api.runtime.RuntimeDTO;

/** What {@link DmaBufTestSupport} checks in the core's runtime DTO after each test. */
final class CoreIdleCheck {
    private CoreIdleCheck() {
    }

    /** What keeps the core from being idle: buffers, attachments, and whatever each bundle still holds. */
    static List<String> busy(RuntimeDTO dto) {
        List<String> busy = new ArrayList<>();
        if (dto == null) {
            return List.of("no snapshot yet");
        }
        if (dto.buffers.length > 0 || dto.totalBytes != 0) {
            busy.add(dto.buffers.length + " buffer(s), " + dto.totalBytes + " bytes not released: "
                + Arrays.stream(dto.buffers).map(b -> b.id + " '" + b.name + "' of " + b.exporterName + " "
                    + b.state + " count " + b.count).collect(Collectors.joining(", ")));
        }
        if (dto.attachments.length > 0) {
            busy.add(dto.attachments.length + " attachment(s) linked");
        }
        for (ClientDTO c : dto.clients) {
            if (c.openFds + c.references + c.attachments + c.vmaps + c.mmaps + c.cpuAccessBrackets
                + c.exportedBuffers != 0) {
                busy.add(c.symbolicName + " holds fds=" + c.openFds + " refs=" + c.references + " attachments="
                    + c.attachments + " vmaps=" + c.vmaps + " mmaps=" + c.mmaps + " brackets="
                    + c.cpuAccessBrackets + " exported=" + c.exportedBuffers);
            }
        }
        return busy;
    }

    /**
     * The leaks reported after the first {@code since} (of {@code leaksReported}) that no {bundle, kind} pair in
     * {@code expected} allows, described for a failure message.
     */
    static List<String> unexpectedLeaks(RuntimeDTO dto, long since, List<String[]> expected) {
        int fresh = (int) Math.min(dto.leaks.length, dto.leaksReported - since);
        List<String> unexpected = new ArrayList<>();
        for (int i = dto.leaks.length - fresh; i < dto.leaks.length; i++) {
            LeakDTO leak = dto.leaks[i];
            boolean allowed = expected.stream()
                .anyMatch(e -> e[0].equals(leak.bundleSymbolicName) && e[1].equals(leak.kind));
            if (!allowed) {
                unexpected.add(leak.bundleSymbolicName + " leaked " + leak.kind + " of buffer " + leak.bufferId
                    + " ('" + leak.bufferName + "' of " + leak.exporterName + "): " + leak.detail);
            }
        }
        return unexpected;
    }
}
