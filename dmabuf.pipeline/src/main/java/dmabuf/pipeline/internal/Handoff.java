package dmabuf.pipeline.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResv;
import dmabuf.api.sync.DmaResvUsage;

/**
 * The hand-off from one stage to the next, by dma-fences only: the one place that orders stages.
 * <p>
 * A job publishes its fence before it runs, under the reservation locks of every buffer it touches (taken together
 * through one acquire context, so stages publishing at once cannot deadlock): WRITE on what it produces, READ on what
 * it consumes. Under the same locks it takes what it must wait for, as the kernel's schedulers do: the WRITE fences
 * of its inputs (the producer is done) and the READ fences of its outputs (every reader of the old contents is
 * done). The snapshot is taken before its own fence is added, so a job never waits for itself.
 */
final class Handoff {
    private final DmaBufRegistry registry;

    Handoff(DmaBufRegistry registry) {
        this.registry = registry;
    }

    /**
     * Publishes {@code fence} on the buffers and returns a stage that completes when the job may start.
     *
     * @param inputs  buffers the job reads (READ fence; waits for their writers)
     * @param outputs buffers the job writes (WRITE fence; waits for their readers and writers)
     */
    CompletableFuture<Void> publish(DmaFence fence, List<DmaBuf> inputs, List<DmaBuf> outputs) {
        Set<DmaResv> all = new LinkedHashSet<>();
        inputs.forEach(b -> all.add(b.resv()));
        outputs.forEach(b -> all.add(b.resv()));
        List<CompletableFuture<Void>> deps = new ArrayList<>();
        try (AcquireContext ctx = registry.acquireContext()) {
            ctx.lockAll(all);
            for (DmaBuf in : inputs) {
                deps.add(in.resv().whenSignaled(DmaResvUsage.WRITE).toCompletableFuture());
            }
            for (DmaBuf out : outputs) {
                deps.add(out.resv().whenSignaled(DmaResvUsage.READ).toCompletableFuture());
            }
            for (DmaBuf in : inputs) {
                in.resv().reserveFences(1);
                in.resv().addFence(fence, DmaResvUsage.READ);
            }
            for (DmaBuf out : outputs) {
                out.resv().reserveFences(1);
                out.resv().addFence(fence, DmaResvUsage.WRITE);
            }
        }
        return CompletableFuture.allOf(deps.toArray(CompletableFuture[]::new));
    }
}
