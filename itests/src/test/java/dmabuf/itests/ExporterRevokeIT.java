package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.RuntimeDTO;

/**
 * An exporter bundle stops while an importer bundle holds everything one can hold on its buffer: an fd, an object
 * reference, a static and a dynamic attachment with mapped tables, a vmap and an mmap. The buffer is revoked: the
 * dynamic importer is told, later operations fail with ENODEV, the stale CPU views throw
 * {@link IllegalStateException} instead of reaching freed memory, the storage is freed exactly once, and once the
 * importer has cleaned up, the accounting is back to zero.
 */
public class ExporterRevokeIT extends DmaBufTestSupport {
    private static final long SIZE = 8 * DmaBufUapi.PAGE_SIZE;

    @Test
    public void stoppingTheExporterBundleRevokesItsBuffersUnderTheImportersFeet() throws BundleException {
        Bundle exporter = throwaway(ThrowawayBundles.EXPORTER);
        Bundle importer = throwaway(ThrowawayBundles.IMPORTER);
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(DmaBufExporter.NAME, "it-cam");
        props.put(DmaBufExporter.CAPABILITIES, new String[] {"vmap", "mmap"});
        exporter.getBundleContext().registerService(DmaBufExporter.class, new DmaBufExporter() { }, props);
        DmaBufRegistry re = registryOf(exporter);
        DmaBufRegistry ri = registryOf(importer);

        ArenaOps ops = new ArenaOps(SIZE);
        DmaBuf buf = re.export(ExportInfo.builder(ops, SIZE).exporter("it-cam").name("cam-frame").build());
        ri.get(buf);                                             // passed to the importer as an object
        int fd = ri.fd(buf, DmaBufUapi.O_RDWR);                  // which keeps it as an fd ...
        DmaBuf held = ri.get(fd);                                // ... and an object reference
        re.put(buf);                                             // the exporter keeps nothing

        DmaBufAttachment display = ri.attach(held, Device.of("disp0"));
        ri.mapAttachment(display, DmaDataDirection.TO_DEVICE);
        AtomicInteger invalidations = new AtomicInteger();
        DmaBufAttachment gpu = ri.dynamicAttach(held, Device.of("gpu0"), a -> invalidations.incrementAndGet());
        ri.mapAttachment(gpu, DmaDataDirection.BIDIRECTIONAL);
        MemorySegment vmap = ri.vmap(held);
        DmaBufMapping mmap = ri.mmap(fd, 0, SIZE, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE);
        vmap.set(ValueLayout.JAVA_LONG, 0, 42L);
        assertEquals("the mmap and the vmap are views of the same storage", 42L,
                mmap.segment().get(ValueLayout.JAVA_LONG, 0));
        awaitRuntime("it-cam listed with its buffer", () -> Arrays.stream(runtime().getRuntimeDTO().exporters)
                .anyMatch(e -> "it-cam".equals(e.name) && e.buffers == 1 && e.bytes == SIZE));

        exporter.stop(); // the framework unregisters it-cam: the core revokes its buffers

        assertEquals("the dynamic importer was told once", 1, invalidations.get());
        assertEquals("the storage was freed at the revoke", 1, ops.released.get());
        RuntimeDTO dto = runtime().getRuntimeDTO();
        BufferDTO listed = Arrays.stream(dto.buffers).filter(b -> b.id == buf.id()).findFirst().orElseThrow();
        assertEquals(BufferDTO.STATE_REVOKED, listed.state);
        assertEquals("revoked storage is not counted", 0, dto.totalBytes);
        assertFalse("it-cam is gone from the exporters",
                Arrays.stream(dto.exporters).anyMatch(e -> "it-cam".equals(e.name)));

        assertErrno(Errno.ENODEV, () -> ri.mapAttachment(display, DmaDataDirection.TO_DEVICE));
        assertErrno(Errno.ENODEV, () -> ri.attach(held, Device.of("disp1")));
        assertErrno(Errno.ENODEV, () -> ri.vmap(held));
        assertErrno(Errno.ENODEV, () -> ri.beginCpuAccess(held, DmaDataDirection.FROM_DEVICE));
        assertErrno(Errno.ENODEV, () -> ri.mmap(fd, 0, SIZE, DmaBufUapi.PROT_READ));
        assertStale("vmap", vmap);
        assertStale("mmap", mmap.segment());

        // Cleanup after a revoke succeeds, and frees nothing twice.
        mmap.close();
        ri.vunmap(held, vmap);
        ri.detach(gpu);
        ri.detach(display);
        ri.put(held);
        ri.close(fd);
        assertEquals("release never runs twice", 1, ops.released.get());
        awaitRuntime("the revoked buffer is gone once its last reference is", () -> {
            RuntimeDTO now = runtime().getRuntimeDTO();
            return now.buffers.length == 0 && now.totalBytes == 0 && now.attachments.length == 0;
        });
    }

    private static void assertStale(String what, MemorySegment view) {
        try {
            view.get(ValueLayout.JAVA_BYTE, 0);
            fail("a stale " + what + " view must not reach the freed storage");
        } catch (IllegalStateException expected) {
            // the core closed the buffer's view scope at the revoke
        }
    }
}
