package dmabuf.core.sync;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import dmabuf.api.DmaBufFences;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.DmaBufCore;
import dmabuf.core.client.Client;

/**
 * The synchronisation calls of one bundle's registry, made on behalf of its {@link Client}. The bundle's registry
 * extends it, so fences live in this package and the registry stays about buffers.
 */
public abstract class BundleFences implements DmaBufFences {
    private final DmaBufCore core;
    private final Client client;

    /**
     * @param core   the core
     * @param client the bundle
     */
    protected BundleFences(DmaBufCore core, Client client) {
        this.core = core;
        this.client = client;
    }

    private Client open() {
        client.checkOpen();
        return client;
    }

    @Override
    public FenceContext fenceContext(String driverName, String timelineName) {
        return core.fences().createContext(open(), driverName, timelineName);
    }

    @Override
    public DmaFence stubFence() {
        return core.fences().stub();
    }

    @Override
    public AcquireContext acquireContext() {
        return core.fences().acquireContext(open());
    }

    @Override
    public int poll(int fd, int events, long timeout, TimeUnit unit) {
        return core.polls().poll(open(), fd, events, timeout, unit);
    }

    @Override
    public CompletionStage<Integer> pollAsync(int fd, int events) {
        return core.polls().pollAsync(open(), fd, events);
    }

    @Override
    public int exportSyncFile(int fd, long flags) {
        int syncFd = core.syncFiles().export(open(), fd, flags);
        core.changed();
        return syncFd;
    }

    @Override
    public void importSyncFile(int fd, int syncFd, long flags) {
        core.syncFiles().importFence(open(), fd, syncFd, flags);
    }

    @Override
    public int syncFileFd(DmaFence fence) {
        int syncFd = core.syncFiles().install(open(), fence);
        core.changed();
        return syncFd;
    }

    @Override
    public DmaFence syncFileFence(int syncFd) {
        return core.syncFiles().fence(open(), syncFd);
    }
}
