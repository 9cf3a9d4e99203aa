package dmabuf.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResv;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;

/** The stage hand-off by fences: what a job publishes, what it waits for, and that it never waits for itself. */
class HandoffTest {
    private final DmaBufCore core = new DmaBufCore(CoreConfig.DEFAULTS, new CoreLog() {
        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
        }

        @Override
        public void error(String message, Throwable cause) {
        }

        @Override
        public void debug(String message) {
        }
    }, () -> {
    });
    private final DmaBufRegistry registry = core.registryFor(core.openClient(1, "pipeline"));
    private final DmaBuf camera = buffer();
    private final DmaBuf framebuffer = buffer();
    private final FenceContext captureTimeline = registry.fenceContext("test", "capture");
    private final FenceContext renderTimeline = registry.fenceContext("test", "render");
    private final FenceContext scanoutTimeline = registry.fenceContext("test", "scanout");
    private final Handoff handoff = new Handoff(registry);

    private DmaBuf buffer() {
        return registry.export(ExportInfo.builder(new DmaBufOps() {
            @Override
            public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
                return SgTable.contiguous(0x1000, 4096);
            }

            @Override
            public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
            }

            @Override
            public void release(DmaBuf dmaBuf) {
            }
        }, 4096).build());
    }

    @AfterEach
    void shutDown() {
        core.shutdown();
    }

    private static List<DmaFence> fences(DmaResv resv, DmaResvUsage usage) {
        return resv.fences(usage).stream().filter(e -> e.usage() == usage).map(DmaResv.Entry::fence).toList();
    }

    @Test
    void aJobPublishesReadOnItsInputsAndWriteOnItsOutputs() {
        DmaFence render = renderTimeline.createFence();
        assertTrue(handoff.publish(render, List.of(camera), List.of(framebuffer)).isDone(), "nothing to wait for");
        assertEquals(List.of(render), fences(camera.resv(), DmaResvUsage.READ));
        assertEquals(List.of(render), fences(framebuffer.resv(), DmaResvUsage.WRITE));
        assertFalse(camera.resv().isLocked() || framebuffer.resv().isLocked(), "the locks are released");
    }

    @Test
    void aJobStartsWhenItsInputsWriterAndItsOutputsReadersAreDoneButNeverWaitsForItself() throws Exception {
        DmaFence capture = captureTimeline.createFence();
        handoff.publish(capture, List.of(), List.of(camera));
        DmaFence oldScanout = scanoutTimeline.createFence();
        handoff.publish(oldScanout, List.of(framebuffer), List.of());

        DmaFence render = renderTimeline.createFence();
        CompletableFuture<Void> ready = handoff.publish(render, List.of(camera), List.of(framebuffer));
        DmaFence nextScanout = scanoutTimeline.createFence();
        CompletableFuture<Void> scanoutReady = handoff.publish(nextScanout, List.of(framebuffer), List.of());

        assertFalse(ready.isDone());
        capture.signal();
        assertFalse(ready.isDone(), "the old frame is still on screen");
        oldScanout.signal();
        ready.get(5, TimeUnit.SECONDS);
        assertFalse(render.isSignaled(), "the job's own fence is not among what it waited for");
        assertFalse(scanoutReady.isDone(), "the next scanout waits for the render");
        render.signal();
        scanoutReady.get(5, TimeUnit.SECONDS);
    }

    @Test
    void percentilesAreNearestRank() {
        long[] sorted = new long[100];
        for (int i = 0; i < 100; i++) {
            sorted[i] = i + 1;
        }
        assertEquals(50, StageStats.percentile(sorted, 0.50));
        assertEquals(99, StageStats.percentile(sorted, 0.99));
        assertEquals(7, StageStats.percentile(new long[] {7}, 0.99));
    }
}
