package dmabuf.core.osgi;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;

import dmabuf.core.CoreLog;

/**
 * Publishes the core's change count in the runtime service's {@code service.changecount}, coalesced: a burst of
 * changes (every export and release changes the count) becomes one property update at most every {@code delay}
 * milliseconds, done on a thread this component owns and stops, never on the caller's frame path.
 */
final class ChangeCountPublisher {
    private final long delayMillis;
    private final CoreLog log;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final ScheduledExecutorService executor;
    private volatile ServiceRegistration<?> registration;
    private volatile LongSupplier count;

    ChangeCountPublisher(long delayMillis, CoreLog log) {
        this.delayMillis = delayMillis;
        this.log = log;
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dmabuf-core-changecount");
            t.setDaemon(true);
            return t;
        });
    }

    void start(ServiceRegistration<?> reg, LongSupplier changeCount) {
        this.count = changeCount;
        this.registration = reg;
    }

    /** Called on every change; cheap. */
    void changed() {
        if (registration != null && scheduled.compareAndSet(false, true)) {
            try {
                executor.schedule(this::publish, delayMillis, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException stopped) {
                scheduled.set(false);
            }
        }
    }

    private void publish() {
        scheduled.set(false);
        ServiceRegistration<?> reg = registration;
        if (reg == null) {
            return;
        }
        try {
            ServiceReference<?> ref = reg.getReference();
            Dictionary<String, Object> props = new Hashtable<>();
            for (String key : ref.getPropertyKeys()) {
                props.put(key, ref.getProperty(key));
            }
            props.put(Constants.SERVICE_CHANGECOUNT, count.getAsLong());
            reg.setProperties(props);
        } catch (IllegalStateException unregistered) {
            // the core is stopping
        } catch (RuntimeException e) {
            log.error("could not publish service.changecount: " + e, e);
        }
    }

    /** Stops the thread, waiting a bounded time. */
    void stop() {
        registration = null;
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(2, TimeUnit.SECONDS)) {
                log.warn("the change count publisher did not stop within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
