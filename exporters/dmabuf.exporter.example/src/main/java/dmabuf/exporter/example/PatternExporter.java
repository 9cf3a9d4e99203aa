package dmabuf.exporter.example;

import java.lang.foreign.MemorySegment;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.ComponentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufSink;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.ExportInfo;

/**
 * An example exporter driver: a video source. It owns a pool of frame buffers in one Arena, and a producer thread that
 * exports a slot as a dma-buf, draws the {@link TestPattern} into it through vmap inside a CPU-access bracket, hands
 * the buffer to every {@link DmaBufSink} and puts its reference; the release that follows returns the slot to the
 * pool for a later frame.
 * <p>
 * The component is its own {@link DmaBufExporter} whiteboard service (name {@value #EXPORTER_NAME}); its buffers are
 * exported under that name, so the core revokes them should the service go away. It registers that service itself,
 * before its producer starts, rather than through DS: DS may activate an immediate component before its service is
 * registered, and a frame exported in that gap is refused because the core does not know the exporter name yet.
 * {@code registerService} returns after every synchronous service listener, the core's whiteboard tracker included,
 * has seen the service, so the first frame finds it. The state of the stream is
 * published as the properties of a {@link ProducerStatus} service.
 */
@Component(name = PatternExporter.PID, configurationPid = PatternExporter.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true, service = {})
@Designate(ocd = ExporterConfig.class)
public final class PatternExporter implements DmaBufExporter {
    /** The component's name and configuration PID. */
    public static final String PID = "dmabuf.exporter.example";
    /** The {@link DmaBufExporter#NAME} of this exporter. */
    public static final String EXPORTER_NAME = "example";

    /** The longest the producer waits for a frame buffer to come back before it says so and waits again. */
    static final long SLOT_WAIT_MS = 2_000;
    /** The longest deactivation waits for the producer thread to end. */
    static final long STOP_WAIT_MS = 5_000;
    /** The longest deactivation waits for consumers to give the last buffers back before it revokes them. */
    static final long RELEASE_WAIT_MS = 2_000;
    /** The most memory the pool may take. */
    static final long MAX_POOL_BYTES = 1L << 30;

    private final ComponentContext context;
    private final DmaBufRegistry registry;
    private final Logger logger;
    private final int frames;
    private final int width;
    private final int height;
    private final long intervalNanos;
    private final FramePool pool;
    private final List<DmaBufSink> sinks = new CopyOnWriteArrayList<>();
    /** The ops of every slot lent to an exported buffer whose release has not run yet. */
    private final Set<FrameOps> lent = ConcurrentHashMap.newKeySet();

    private ScheduledExecutorService producer;
    private StatusRegistration status;
    private ServiceRegistration<DmaBufExporter> exporterRegistration;
    private volatile boolean stopping;

    // Touched by the producer thread only.
    private long nextSequence;
    private long nextDueNanos;
    private long sinkErrors;

    /**
     * Validates the configuration and allocates the pool. The stream starts in {@link #start()}, once the sinks
     * present now are bound.
     *
     * @param context  the component's context
     * @param config   the configuration, or its defaults
     * @param registry this bundle's dma-buf registry
     * @param logger   this component's logger
     */
    @Activate
    public PatternExporter(ComponentContext context, ExporterConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        if (config.frames() < 0 || config.width() < 1 || config.height() < 1 || config.interval_ms() < 0
                || config.pool_size() < 1) {
            throw new IllegalArgumentException("invalid configuration of " + PID + ": frames=" + config.frames()
                    + ", width=" + config.width() + ", height=" + config.height() + ", interval.ms="
                    + config.interval_ms() + ", pool.size=" + config.pool_size()
                    + " (frames and interval.ms must not be negative, the others must be positive)");
        }
        long poolBytes = FramePool.pageAlign(TestPattern.frameBytes(config.width(), config.height()))
                * config.pool_size();
        if (poolBytes > MAX_POOL_BYTES) {
            throw new IllegalArgumentException("invalid configuration of " + PID + ": " + config.pool_size()
                    + " frame(s) of " + config.width() + "x" + config.height() + " need " + poolBytes
                    + " bytes, more than the " + MAX_POOL_BYTES + " this example allocates");
        }
        this.context = context;
        this.registry = registry;
        this.logger = logger;
        this.frames = config.frames();
        this.width = config.width();
        this.height = config.height();
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(config.interval_ms());
        this.pool = new FramePool(config.pool_size(), TestPattern.frameBytes(width, height));
    }

    /** Starts the stream on a producer thread this component owns. */
    @Activate
    void start() {
        try {
            startStream();
        } catch (RuntimeException e) {
            // SCR will not call stop() for a failed activation: undo here what the constructor and start did.
            stop();
            throw e;
        }
    }

    private void startStream() {
        BundleContext bundleContext = context.getBundleContext();
        status = new StatusRegistration(bundleContext, Map.of(
                ProducerStatus.EXPORTER_NAME, EXPORTER_NAME,
                ProducerStatus.FRAMES_TOTAL, (long) frames,
                ProducerStatus.FRAMES_PRODUCED, 0L,
                ProducerStatus.FRAME_SIZE, width + "x" + height,
                ProducerStatus.SINK_ERRORS, 0L,
                ProducerStatus.STATE, ProducerStatus.RUNNING));
        exporterRegistration = bundleContext.registerService(DmaBufExporter.class, this, exporterProperties());
        producer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread t = new Thread(task, "dmabuf-example-producer");
            t.setDaemon(true);
            return t;
        });
        logger.info("producing {} frame(s) of {}x{} RGBA ({} bytes) from a pool of {} buffer(s), interval {} ms",
                frames, width, height, pool.frameBytes(), pool.size(), TimeUnit.NANOSECONDS.toMillis(intervalNanos));
        nextDueNanos = System.nanoTime();
        producer.execute(this::step);
    }

    /**
     * Stops the producer, then makes sure no buffer still uses the pool before freeing it.
     */
    @Deactivate
    void stop() {
        stopping = true;
        // The core revokes this exporter's buffers now; a frame in progress fails and the producer sees stopping.
        if (exporterRegistration != null) {
            try {
                exporterRegistration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework unregistered it while stopping the bundle
            }
            exporterRegistration = null;
        }
        boolean interrupted = false;
        if (producer != null) {
            producer.shutdownNow(); // interrupts a wait for a free slot
            try {
                if (!producer.awaitTermination(STOP_WAIT_MS, TimeUnit.MILLISECONDS)) {
                    logger.warn("the producer thread did not stop within {} ms", STOP_WAIT_MS);
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (status != null) {
            if (ProducerStatus.RUNNING.equals(status.get(ProducerStatus.STATE))) {
                finish(ProducerStatus.STOPPED, null);
            }
            status.unregister();
        }

        // The storage must never be freed while a buffer lives: importers may hold views of it (vmap, kmap, mmap)
        // until the core has run release. So: give consumers a bounded time to put their references, then revoke
        // what they still hold (revoke invalidates every view and runs release, which returns the slot), and close
        // the Arena only when every slot is back. Usually there is nothing to wait for: the DmaBufExporter service
        // was unregistered above, and the core revoked this exporter's buffers then.
        try {
            if (!interrupted && !pool.awaitAllFree(RELEASE_WAIT_MS, TimeUnit.MILLISECONDS)) {
                logger.info("{} frame buffer(s) still held by consumers after {} ms; revoking them",
                        pool.size() - pool.freeCount(), RELEASE_WAIT_MS);
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        for (FrameOps ops : lent) {
            DmaBuf buffer = ops.buffer();
            if (buffer != null && !ops.isReleased()) {
                try {
                    registry.revoke(buffer);
                } catch (DmaBufException e) {
                    logger.debug("could not revoke {}: {}", buffer, e.getMessage());
                }
            }
        }
        if (pool.freeCount() == pool.size()) {
            pool.close();
        } else {
            logger.error("{} frame buffer(s) are still lent to live dma-bufs; their storage stays allocated rather "
                    + "than be freed under them", pool.size() - pool.freeCount());
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Reference(name = "sinks", service = DmaBufSink.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "removeSink")
    void addSink(DmaBufSink sink) {
        sinks.add(sink);
    }

    void removeSink(DmaBufSink sink) {
        sinks.remove(sink);
    }

    private static Dictionary<String, Object> exporterProperties() {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(DmaBufExporter.NAME, EXPORTER_NAME);
        props.put(DmaBufExporter.CAPABILITIES, new String[] {"vmap", "kmap", "mmap"});
        return props;
    }

    /** One frame; runs on the producer thread and schedules the next. */
    private void step() {
        if (stopping) {
            return;
        }
        if (nextSequence >= frames) {
            finish(ProducerStatus.DONE, null);
            return;
        }
        FramePool.Slot slot;
        try {
            slot = pool.take(SLOT_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            return; // deactivating
        }
        if (slot == null) {
            logger.warn("frame {}: none of the {} frame buffers came back within {} ms (consumers still hold "
                    + "them); waiting again", nextSequence, pool.size(), SLOT_WAIT_MS);
            schedule(0);
            return;
        }
        try {
            produce(slot, nextSequence);
        } catch (RuntimeException e) {
            if (stopping) {
                logger.info("stream stopped at frame {} of {}: {}", nextSequence, frames, e.getMessage());
                return;
            }
            logger.error("frame {} could not be produced; the stream ends here: {}", nextSequence, e.getMessage(),
                    e);
            finish(ProducerStatus.FAILED, "frame " + nextSequence + ": " + e.getMessage());
            return;
        }
        nextSequence++;
        status.update(Map.of(ProducerStatus.FRAMES_PRODUCED, nextSequence, ProducerStatus.SINK_ERRORS, sinkErrors));
        if (nextSequence >= frames) {
            finish(ProducerStatus.DONE, null);
        } else {
            nextDueNanos += intervalNanos;
            schedule(Math.max(0, nextDueNanos - System.nanoTime()));
        }
    }

    private void schedule(long delayNanos) {
        try {
            producer.schedule(this::step, delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException shutDown) {
            // deactivating
        }
    }

    /** Exports the slot, draws frame {@code seq}, hands it to the sinks and puts the exporter's reference. */
    private void produce(FramePool.Slot slot, long seq) {
        FrameOps ops = new FrameOps(pool, slot, lent::remove);
        lent.add(ops);
        DmaBuf buffer;
        try {
            buffer = registry.export(ExportInfo.builder(ops, pool.frameBytes())
                    .exporter(EXPORTER_NAME)
                    .name("frame-" + seq)
                    .build());
        } catch (RuntimeException e) {
            // Nothing was exported, so release will never run for these ops: the slot comes back here.
            lent.remove(ops);
            pool.give(slot);
            throw e;
        }
        ops.exportedAs(buffer);
        try {
            draw(buffer, seq);
            deliver(buffer, seq);
        } finally {
            // Our reference. The last one of all (sinks normally keep none) releases the buffer: the slot is free.
            registry.put(buffer);
        }
    }

    /** Draws the pattern through the CPU view, inside a bracket: the CPU writes, a device will read. */
    private void draw(DmaBuf buffer, long seq) {
        registry.beginCpuAccess(buffer, DmaDataDirection.TO_DEVICE);
        try {
            MemorySegment view = registry.vmap(buffer);
            try {
                TestPattern.fill(view, width, height, seq);
            } finally {
                registry.vunmap(buffer, view);
            }
        } finally {
            registry.endCpuAccess(buffer, DmaDataDirection.TO_DEVICE);
        }
    }

    /** Hands the buffer to every sink; a sink that fails is logged and the stream goes on. */
    private void deliver(DmaBuf buffer, long seq) {
        for (DmaBufSink sink : sinks) {
            try {
                sink.accept(buffer, seq);
            } catch (DmaBufException e) {
                sinkErrors++;
                logger.warn("sink {} refused frame {}: {}", sink, seq, e.getMessage());
            } catch (RuntimeException e) {
                sinkErrors++;
                logger.error("sink {} failed on frame {}: {}", sink, seq, e, e);
            }
        }
    }

    private void finish(String state, String failure) {
        if (failure == null) {
            status.update(Map.of(ProducerStatus.STATE, state));
        } else {
            status.update(Map.of(ProducerStatus.STATE, state, ProducerStatus.FAILURE, failure));
        }
        if (ProducerStatus.DONE.equals(state)) {
            logger.info("produced {} frame(s); {} sink call(s) failed", nextSequence, sinkErrors);
        }
    }
}
