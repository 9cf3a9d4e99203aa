package dmabuf.launcher;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.util.tracker.ServiceTrackerCustomizer;

/**
 * Follows the stream through the status services of the example bundles, using only the framework API: each bundle
 * publishes its state as service properties and updates them after every frame, which the framework announces as a
 * MODIFIED service event, so the launcher waits on a latch that the events count down, never polls or sleeps.
 * <ul>
 * <li>{@code dmabuf.exporter.example.ProducerStatus}: {@code state} (running, done, failed, stopped),
 * {@code frames.total}, {@code frames.produced}, {@code sink.errors}, {@code failure}.</li>
 * <li>{@code dmabuf.importer.example.SinkStatus}: {@code frames}, {@code bytes}, {@code last.sequence},
 * {@code last.crc32}, {@code last.size}, {@code last.access}.</li>
 * </ul>
 */
final class StreamWatch implements AutoCloseable {
    static final String PRODUCER_STATUS = "dmabuf.exporter.example.ProducerStatus";
    static final String SINK_STATUS = "dmabuf.importer.example.SinkStatus";

    private final Console console;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final ServiceTracker<Object, ServiceReference<Object>> producer;
    private final ServiceTracker<Object, ServiceReference<Object>> sink;
    private volatile Map<String, Object> producerProps = Map.of();
    private volatile Map<String, Object> sinkProps = Map.of();
    private volatile String abortReason;
    private volatile long startNanos;
    private volatile long endNanos;
    private long lastPrintedFrames;

    StreamWatch(BundleContext context, Console console) {
        this.console = console;
        this.producer = tracker(context, PRODUCER_STATUS, this::producerChanged);
        this.sink = tracker(context, SINK_STATUS, this::sinkChanged);
        producer.open();
        sink.open();
    }

    private static ServiceTracker<Object, ServiceReference<Object>> tracker(BundleContext context, String type,
            Consumer<ServiceReference<Object>> onChange) {
        org.osgi.framework.Filter filter;
        try {
            filter = context.createFilter("(objectClass=" + type + ")");
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
        return new ServiceTracker<>(context, filter,
                new ServiceTrackerCustomizer<Object, ServiceReference<Object>>() {
                    @Override
                    public ServiceReference<Object> addingService(ServiceReference<Object> ref) {
                        onChange.accept(ref);
                        return ref;
                    }

                    @Override
                    public void modifiedService(ServiceReference<Object> ref, ServiceReference<Object> tracked) {
                        onChange.accept(ref);
                    }

                    @Override
                    public void removedService(ServiceReference<Object> ref, ServiceReference<Object> tracked) {
                        // the bundle stopped; the last properties seen are kept
                    }
                });
    }

    private void producerChanged(ServiceReference<Object> ref) {
        Map<String, Object> props = properties(ref);
        producerProps = props;
        String state = String.valueOf(props.get("state"));
        if (startNanos == 0) {
            startNanos = System.nanoTime();
        }
        if (!state.equals("running")) {
            endNanos = System.nanoTime();
            ended.countDown();
        }
    }

    private synchronized void sinkChanged(ServiceReference<Object> ref) {
        Map<String, Object> props = properties(ref);
        sinkProps = props;
        long frames = number(props, "frames");
        long total = number(producerProps, "frames.total");
        if (frames <= 0 || frames == lastPrintedFrames) {
            return;
        }
        // Every frame of a short stream; about 16 lines plus the last one for a long one.
        long every = total <= 32 ? 1 : (total + 15) / 16;
        if (frames % every == 0 || frames == total) {
            lastPrintedFrames = frames;
            console.info(String.format("frame %d/%d: %d bytes via %s, crc32=0x%08x", frames, total,
                    number(props, "last.size"), props.get("last.access"), number(props, "last.crc32")));
        }
    }

    /** Ends the wait early, e.g. because a bundle logged an error. */
    void abort(String reason) {
        if (abortReason == null) {
            abortReason = reason;
        }
        ended.countDown();
    }

    /** Waits until the producer is no longer running (or the wait was aborted), at most {@code seconds}. */
    boolean awaitEnd(int seconds) throws InterruptedException {
        return ended.await(seconds, TimeUnit.SECONDS);
    }

    /** Why the wait was aborted, or null. */
    String abortReason() {
        return abortReason;
    }

    /** The last properties of the producer's status service. */
    Map<String, Object> producer() {
        return producerProps;
    }

    /** The last properties of the sink's status service. */
    Map<String, Object> sink() {
        return sinkProps;
    }

    /** Nanoseconds from the producer's first status to its end, or -1. */
    long elapsedNanos() {
        return endNanos == 0 || startNanos == 0 ? -1 : endNanos - startNanos;
    }

    static long number(Map<String, Object> props, String key) {
        return props.get(key) instanceof Number n ? n.longValue() : -1;
    }

    private static Map<String, Object> properties(ServiceReference<?> ref) {
        Map<String, Object> props = new HashMap<>();
        for (String key : ref.getPropertyKeys()) {
            props.put(key, ref.getProperty(key));
        }
        return Map.copyOf(props);
    }

    @Override
    public void close() {
        sink.close();
        producer.close();
    }
}
