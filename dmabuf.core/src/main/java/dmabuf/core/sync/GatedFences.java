package dmabuf.core.sync;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import dmabuf.api.DmaBufFences;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.client.Client;

/**
 * The door of a bundle's synchronisation calls (see the core's GatedRegistry, which extends it): each call enters
 * through {@link Client#enterCall()} so a bundle stop waits for it or refuses it with ENODEV.
 */
public abstract class GatedFences implements DmaBufFences {
    private final Client client;
    private final DmaBufFences fences;

    /**
     * @param client the bundle
     * @param fences the ungated calls
     */
    protected GatedFences(Client client, DmaBufFences fences) {
        this.client = client;
        this.fences = fences;
    }

    private <T> T gated(Supplier<T> call) {
        client.enterCall();
        try {
            return call.get();
        } finally {
            client.exitCall();
        }
    }

    @Override
    public FenceContext fenceContext(String driverName, String timelineName) {
        return gated(() -> fences.fenceContext(driverName, timelineName));
    }

    @Override
    public DmaFence stubFence() {
        return fences.stubFence();
    }

    @Override
    public AcquireContext acquireContext() {
        return gated(fences::acquireContext);
    }

    @Override
    public int poll(int fd, int events, long timeout, TimeUnit unit) {
        // not gated: a blocking poll must not hold up the bundle's stop; it only reads
        client.checkOpen();
        return fences.poll(fd, events, timeout, unit);
    }

    @Override
    public CompletionStage<Integer> pollAsync(int fd, int events) {
        return gated(() -> fences.pollAsync(fd, events));
    }

    @Override
    public int exportSyncFile(int fd, long flags) {
        return gated(() -> fences.exportSyncFile(fd, flags));
    }

    @Override
    public void importSyncFile(int fd, int syncFd, long flags) {
        gated(() -> {
            fences.importSyncFile(fd, syncFd, flags);
            return null;
        });
    }

    @Override
    public int syncFileFd(DmaFence fence) {
        return gated(() -> fences.syncFileFd(fence));
    }

    @Override
    public DmaFence syncFileFence(int syncFd) {
        return gated(() -> fences.syncFileFence(syncFd));
    }
}
