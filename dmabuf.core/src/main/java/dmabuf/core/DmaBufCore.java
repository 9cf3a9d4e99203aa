package dmabuf.core;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import dmabuf.api.DmaBufRegistry;
import dmabuf.core.attach.AttachmentService;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.buffer.BufferTable;
import dmabuf.core.buffer.ExporterGuard;
import dmabuf.core.client.Client;
import dmabuf.core.client.LeakLog;
import dmabuf.core.client.Reclaimer;
import dmabuf.core.cpu.CpuAccessService;
import dmabuf.core.cpu.VmapService;
import dmabuf.core.drivers.DriverTracker;
import dmabuf.core.heap.HeapTable;
import dmabuf.core.leak.LeakDetector;
import dmabuf.core.mmap.MmapService;
import dmabuf.core.runtime.RuntimeSnapshots;
import dmabuf.core.sync.FenceService;
import dmabuf.core.sync.PollService;
import dmabuf.core.sync.SyncFiles;

/**
 * The dma-buf core, free of OSGi: it wires the concerns together (buffer lifecycle, attachments, CPU access, vmap,
 * mmap, driver tracking, per-bundle reclaim, runtime snapshots) and owns their shared state. The OSGi component
 * creates one per activation and hands every bundle a {@link BundleRegistry} over its own {@link Client}; tests do
 * the same without a framework.
 */
public final class DmaBufCore {
    private volatile CoreConfig config;
    private final CoreLog log;
    private final Runnable changeListener;
    private final AtomicLong changeCount = new AtomicLong();
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private volatile boolean shutDown;

    private final ExporterGuard guard;
    private final BufferTable buffers;
    private final DriverTracker drivers;
    private final LeakLog leaks;
    private final LeakDetector leakDetector;
    private final BufferLifecycle lifecycle;
    private final AttachmentService attachments;
    private final CpuAccessService cpuAccess;
    private final VmapService vmaps;
    private final MmapService mmaps;
    private final Reclaimer reclaimer;
    private final RuntimeSnapshots snapshots;
    private final HeapTable heaps;
    private final FenceService fences;
    private final PollService polls;
    private final SyncFiles syncFiles;

    /**
     * @param config         the initial settings
     * @param log            where messages go
     * @param changeListener told (on the changing thread, so it must be quick) whenever the runtime view changed
     */
    public DmaBufCore(CoreConfig config, CoreLog log, Runnable changeListener) {
        this.config = config;
        this.log = log;
        this.changeListener = changeListener;
        this.guard = new ExporterGuard(log);
        this.buffers = new BufferTable(this);
        this.leaks = new LeakLog(log, () -> this.config);
        this.leakDetector = new LeakDetector(() -> this.config, leaks);
        this.drivers = new DriverTracker(this);
        this.lifecycle = new BufferLifecycle(this);
        this.attachments = new AttachmentService(this);
        this.cpuAccess = new CpuAccessService(this);
        this.vmaps = new VmapService(this);
        this.mmaps = new MmapService(this);
        this.reclaimer = new Reclaimer(this);
        this.snapshots = new RuntimeSnapshots(this);
        this.heaps = new HeapTable(this);
        this.fences = new FenceService(this);
        this.polls = new PollService(this);
        this.syncFiles = new SyncFiles(fences);
    }

    /** Applies new settings; nothing is revoked. */
    public void configure(CoreConfig newConfig) {
        this.config = newConfig;
        changed();
    }

    /** The settings in force. */
    public CoreConfig config() {
        return config;
    }

    /** Where messages go. */
    public CoreLog log() {
        return log;
    }

    /** Judges exceptions from driver code. */
    public ExporterGuard guard() {
        return guard;
    }

    /** Live buffers and accounting. */
    public BufferTable buffers() {
        return buffers;
    }

    /** Registered exporter and importer services. */
    public DriverTracker drivers() {
        return drivers;
    }

    /** Leak reports. */
    public LeakLog leaks() {
        return leaks;
    }

    /** Tracks buffers dropped without put. */
    public LeakDetector leakDetector() {
        return leakDetector;
    }

    /** Export, references, release and revocation. */
    public BufferLifecycle lifecycle() {
        return lifecycle;
    }

    /** Attach, detach, map and unmap. */
    public AttachmentService attachments() {
        return attachments;
    }

    /** CPU-access brackets and kmap. */
    public CpuAccessService cpuAccess() {
        return cpuAccess;
    }

    /** Refcounted vmap. */
    public VmapService vmaps() {
        return vmaps;
    }

    /** mmap. */
    public MmapService mmaps() {
        return mmaps;
    }

    /** The registered dma-heaps. */
    public HeapTable heaps() {
        return heaps;
    }

    /** Fence contexts, acquire contexts and implicit-sync waits. */
    public FenceService fences() {
        return fences;
    }

    /** {@code poll} on dma-buf fds. */
    public PollService polls() {
        return polls;
    }

    /** Sync files. */
    public SyncFiles syncFiles() {
        return syncFiles;
    }

    /** Snapshots for the runtime DTO and bufinfo. */
    public RuntimeSnapshots snapshots() {
        return snapshots;
    }

    /** The bundles using the registry. */
    public Set<Client> clients() {
        return clients;
    }

    /** The change count: grows on every change of what the runtime DTO shows. */
    public long changeCount() {
        return changeCount.get();
    }

    /** Records a change and tells the listener. */
    public void changed() {
        changeCount.incrementAndGet();
        changeListener.run();
    }

    /**
     * A bundle starts using the registry.
     *
     * @param bundleId     its id
     * @param symbolicName its symbolic name
     * @return its client
     */
    public Client openClient(long bundleId, String symbolicName) {
        if (shutDown) {
            throw new IllegalStateException("the dma-buf core was shut down");
        }
        Client c = new Client(bundleId, symbolicName);
        clients.add(c);
        changed();
        return c;
    }

    /** The registry a client sees. */
    public DmaBufRegistry registryFor(Client client) {
        return new GatedRegistry(client, new BundleRegistry(this, client));
    }

    /**
     * A bundle stopped using the registry: revoke what it exported, reclaim and report what it still held.
     *
     * @param client its client
     */
    public void closeClient(Client client) {
        if (client.close()) {
            fences.clientClosed(client); // first: its calls in flight may be waiting for its own fences
            // calls that got past the door finish first, so what they take is reclaimed too (bounded)
            if (!client.awaitCalls(config.drainTimeoutMillis())) {
                log.warn(client.describe() + " stopped with " + client.callsInProgress() + " registry call(s) still "
                        + "running after " + config.drainTimeoutMillis() + " ms; reclaiming anyway");
            }
            leakDetector.poll(); // what the bundle dropped is reported as such before the reclaim
            reclaimer.reclaim(client);
            clients.remove(client);
            changed();
        }
    }

    /**
     * The core goes away: every live buffer is revoked first (so every dynamic importer is told, whichever bundle
     * exported it), then every client is closed (what it still held is reclaimed and reported), and whatever is left
     * is released, so no buffer of this core survives it.
     */
    public void shutdown() {
        shutDown = true;
        for (Buffer b : List.copyOf(buffers.all())) {
            lifecycle.revoke(b, "the dma-buf core stopped");
        }
        for (Client c : List.copyOf(clients)) {
            closeClient(c);
        }
        for (Buffer b : List.copyOf(buffers.all())) {
            lifecycle.forceRelease(b);
        }
    }
}
