package dmabuf.itests;

import static org.junit.Assert.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.ExportInfo;
import dmabuf.api.runtime.LeakDTO;

/**
 * An importer bundle that leaked (an fd, a reference, an attachment with a mapped table, a vmap, an mmap and an open
 * CPU bracket) goes away, by stop or straight by uninstall: the core takes everything back, reports each item once,
 * and the buffer is released exactly once when the exporter puts its own reference.
 */
public class ImporterLeakIT extends DmaBufTestSupport {
    private static final long SIZE = 4 * DmaBufUapi.PAGE_SIZE;
    private static final List<String> KINDS = List.of(LeakDTO.KIND_FD, LeakDTO.KIND_REFERENCE,
            LeakDTO.KIND_ATTACHMENT, LeakDTO.KIND_MAPPING, LeakDTO.KIND_VMAP, LeakDTO.KIND_MMAP,
            LeakDTO.KIND_CPU_ACCESS);

    @Test
    public void stoppingALeakyImporterReclaimsAndReportsEachItemOnce() {
        leakThenEnd(importer -> {
            try {
                importer.stop();
            } catch (BundleException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    public void uninstallingALeakyImporterReclaimsAndReportsEachItemOnce() {
        leakThenEnd(DmaBufTestSupport::uninstallQuietly);
    }

    private void leakThenEnd(Consumer<Bundle> end) {
        KINDS.forEach(kind -> expectLeak(ThrowawayBundles.IMPORTER, kind));
        DmaBufRegistry exporter = awaitService(DmaBufRegistry.class, null, TIMEOUT);
        Bundle importer = throwaway(ThrowawayBundles.IMPORTER);
        DmaBufRegistry ri = registryOf(importer);
        ArenaOps ops = new ArenaOps(SIZE);
        DmaBuf buf = exporter.export(ExportInfo.builder(ops, SIZE).name("leaked").build());
        long leaksBefore = runtime().getRuntimeDTO().leaksReported;

        ri.get(buf);
        int fd = ri.fd(buf, DmaBufUapi.O_RDWR);
        DmaBuf held = ri.get(fd);
        DmaBufAttachment att = ri.attach(held, Device.of("npu0"));
        ri.mapAttachment(att, DmaDataDirection.FROM_DEVICE);
        ri.vmap(held);
        ri.mmap(fd, 0, SIZE, DmaBufUapi.PROT_READ);
        ri.beginCpuAccess(held, DmaDataDirection.FROM_DEVICE);

        end.accept(importer); // nothing was given back

        Map<String, Integer> reported = leaksOf(ThrowawayBundles.IMPORTER, leaksBefore);
        Map<String, Integer> once = new TreeMap<>();
        KINDS.forEach(kind -> once.put(kind, 1));
        assertEquals("each leaked item reported exactly once", once, reported);
        assertEquals("the exporter's buffer lives on: the exporter still holds it", 0, ops.released.get());
        assertEquals("the exporter's detach ran for the reclaimed attachment", 1, ops.detached.get());

        uninstallQuietly(importer); // a second ending reports nothing again
        assertEquals(once, leaksOf(ThrowawayBundles.IMPORTER, leaksBefore));
        exporter.put(buf);
        assertEquals("released once, at the exporter's put", 1, ops.released.get());
    }

    /** The leaks reported for the bundle since {@code since}, counted by kind. */
    private Map<String, Integer> leaksOf(String bsn, long since) {
        var dto = runtime().getRuntimeDTO();
        int fresh = (int) Math.min(dto.leaks.length, dto.leaksReported - since);
        Map<String, Integer> kinds = new TreeMap<>();
        Arrays.stream(dto.leaks, dto.leaks.length - fresh, dto.leaks.length)
                .filter(l -> bsn.equals(l.bundleSymbolicName))
                .forEach(l -> kinds.merge(l.kind, 1, Integer::sum));
        return kinds;
    }
}
