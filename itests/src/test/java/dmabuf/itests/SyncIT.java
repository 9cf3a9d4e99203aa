package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.Before;
import org.junit.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogReaderService;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.api.sync.FenceContext;

/**
 * Fences in a real framework: a fence another bundle publishes in a buffer orders this bundle's CPU access and
 * poll, travels as a sync file, shows in the runtime DTO, and is signalled with ENODEV when its bundle goes away.
 */
public class SyncIT extends DmaBufTestSupport {
    private static final long SIZE = DmaBufUapi.PAGE_SIZE;

    private DmaBufRegistry registry;
    private DmaBufRuntime runtime;

    @Before
    public void lookUp() {
        registry = awaitService(DmaBufRegistry.class, null, TIMEOUT);
        runtime = awaitService(DmaBufRuntime.class, null, TIMEOUT);
    }

    /** One page of an arena. */
    static final class PageExporter implements DmaBufOps {
        final Arena arena = Arena.ofShared();
        final MemorySegment storage = arena.allocate(SIZE, DmaBufUapi.PAGE_SIZE);

        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            return SgTable.contiguous(0x20_0000, SIZE);
        }

        @Override
        public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        }

        @Override
        public void release(DmaBuf dmaBuf) {
        }
    }

    private List<String> warningsContaining(String text) {
        LogReaderService reader = awaitService(LogReaderService.class, null, TIMEOUT);
        List<String> found = new ArrayList<>();
        for (Enumeration<LogEntry> e = reader.getLog(); e.hasMoreElements();) {
            LogEntry entry = e.nextElement();
            if (entry.getLogLevel() == LogLevel.WARN && entry.getMessage().contains(text)) {
                found.add(entry.getMessage());
            }
        }
        return found;
    }

    private static void publish(DmaBufRegistry by, DmaBuf buf, DmaFence fence, DmaResvUsage usage) {
        try (AcquireContext ctx = by.acquireContext()) {
            ctx.lockAll(List.of(buf.resv()));
            buf.resv().reserveFences(1);
            buf.resv().addFence(fence, usage);
        }
    }

    @Test
    public void aFenceOfAnotherBundleOrdersThisBundlesAccessAndDiesWithIt() throws Exception {
        DmaBuf buf = registry.export(ExportInfo.builder(new PageExporter(), SIZE).name("synced").build());
        int fd = registry.fd(buf, DmaBufUapi.O_RDWR);
        BundleContext gpuBundle = bundle("org.apache.felix.metatype").getBundleContext();
        ServiceReference<DmaBufRegistry> ref = gpuBundle.getServiceReference(DmaBufRegistry.class);
        DmaBufRegistry gpu = gpuBundle.getService(ref);
        DmaFence render;
        DmaFence orphan;
        try {
            FenceContext ring = gpu.fenceContext("gpu", "gfx");
            render = ring.createFence();
            publish(gpu, buf, render, DmaResvUsage.WRITE);
            assertEquals("a pending writer: not readable", 0, registry.poll(fd, DmaBufUapi.POLLIN, 0,
                    TimeUnit.MILLISECONDS));
            BufferDTO dto = Arrays.stream(runtime.getRuntimeDTO().buffers).filter(b -> b.id == buf.id())
                    .findFirst().orElseThrow();
            assertEquals(1, dto.fences.length);
            assertEquals("gpu", dto.fences[0].driverName);
            assertEquals("WRITE", dto.fences[0].usage);

            // the fence travels as a sync file and is the same fence on this side
            DmaFence exported = registry.syncFileFence(registry.exportSyncFile(fd, DmaBufUapi.DMA_BUF_SYNC_READ));
            assertSame(render, exported);
            CompletableFuture<Integer> readable = registry.pollAsync(fd, DmaBufUapi.POLLIN).toCompletableFuture();
            CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
                registry.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE); // waits for the render
                registry.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            }, r -> Thread.ofPlatform().start(r));
            assertFalse(readable.isDone());
            render.signal();
            assertEquals(Integer.valueOf(DmaBufUapi.POLLIN), readable.get(TIMEOUT, TimeUnit.MILLISECONDS));
            reader.get(TIMEOUT, TimeUnit.MILLISECONDS);

            orphan = ring.createFence();
            publish(gpu, buf, orphan, DmaResvUsage.WRITE);
        } finally {
            gpuBundle.ungetService(ref); // the GPU bundle goes away with a job in flight
        }
        assertTrue("the dead bundle's fence was signalled", orphan.await(TIMEOUT, TimeUnit.MILLISECONDS));
        assertEquals(Optional.of(Errno.ENODEV), orphan.error());
        assertEquals(Optional.empty(), render.error());
        assertEquals(DmaBufUapi.POLLIN | DmaBufUapi.POLLOUT, registry.poll(fd, DmaBufUapi.POLLIN
                | DmaBufUapi.POLLOUT, 0, TimeUnit.MILLISECONDS));
        assertTrue(warningsContaining("signalled them with ENODEV").stream()
                .anyMatch(w -> w.contains("org.apache.felix.metatype")));
        registry.close(fd);
    }
}
