package dmabuf.core.osgi;

import java.util.HashMap;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;
import org.osgi.util.tracker.ServiceTrackerCustomizer;

import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufImporter;
import dmabuf.core.drivers.DriverTracker;

/**
 * Tracks the exporter and importer whiteboard services for the {@link DriverTracker}.
 * <p>
 * Why service trackers and not DS references: DS binds a component's dynamic references only after its constructor
 * has returned, and the constructor publishes the registry. An exporter that was waiting for the registry could then
 * export under its own {@code dmabuf.exporter.name} before the core had heard of that exporter service, and be
 * refused (seen on Equinox, whose service event order differs from Felix's). {@link #open()} runs before the
 * registry is registered, so every driver service present or appearing from then on is known first.
 */
final class DriverWhiteboard {
    private final ServiceTracker<DmaBufExporter, Long> exporters;
    private final ServiceTracker<DmaBufImporter, Long> importers;

    DriverWhiteboard(BundleContext context, DriverTracker drivers) {
        this.exporters = new ServiceTracker<>(context, DmaBufExporter.class,
                new Customizer<>(drivers, DriverTracker.Kind.EXPORTER));
        this.importers = new ServiceTracker<>(context, DmaBufImporter.class,
                new Customizer<>(drivers, DriverTracker.Kind.IMPORTER));
    }

    /** Starts tracking: the services registered now are added before this returns. */
    void open() {
        exporters.open();
        importers.open();
    }

    /** Stops tracking; each tracked service is removed (an exporter's buffers are revoked). */
    void close() {
        importers.close();
        exporters.close();
    }

    /** Feeds one kind of driver service to the tracker; the tracked object is the service id. */
    private record Customizer<S>(DriverTracker drivers, DriverTracker.Kind kind)
            implements ServiceTrackerCustomizer<S, Long> {

        @Override
        public Long addingService(ServiceReference<S> ref) {
            long id = serviceId(ref);
            drivers.add(kind, id, ref.getBundle().getBundleId(), properties(ref));
            return id;
        }

        @Override
        public void modifiedService(ServiceReference<S> ref, Long id) {
            drivers.modified(kind, id, ref.getBundle().getBundleId(), properties(ref));
        }

        @Override
        public void removedService(ServiceReference<S> ref, Long id) {
            drivers.remove(kind, id);
        }
    }

    private static long serviceId(ServiceReference<?> ref) {
        return (Long) ref.getProperty(Constants.SERVICE_ID);
    }

    private static Map<String, Object> properties(ServiceReference<?> ref) {
        Map<String, Object> props = new HashMap<>();
        for (String key : ref.getPropertyKeys()) {
            Object value = ref.getProperty(key);
            if (value != null) {
                props.put(key, value);
            }
        }
        return props;
    }
}
