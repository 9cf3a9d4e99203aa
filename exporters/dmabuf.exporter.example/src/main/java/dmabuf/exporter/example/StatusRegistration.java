package dmabuf.exporter.example;

import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/** The {@link ProducerStatus} service: its properties are the status, updated in place. */
final class StatusRegistration {
    private final Hashtable<String, Object> properties;
    private ServiceRegistration<ProducerStatus> registration;

    StatusRegistration(BundleContext context, Map<String, Object> initial) {
        this.properties = new Hashtable<>(initial);
        this.registration = context.registerService(ProducerStatus.class, new ProducerStatus() {
        }, new Hashtable<>(properties));
    }

    /** Changes some properties (one MODIFIED event). */
    synchronized void update(Map<String, Object> changes) {
        properties.putAll(changes);
        if (registration != null) {
            try {
                registration.setProperties(new Hashtable<>(properties));
            } catch (IllegalStateException unregistered) {
                registration = null; // the bundle is stopping
            }
        }
    }

    /** The current value of a property. */
    synchronized Object get(String key) {
        return properties.get(key);
    }

    synchronized void unregister() {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework unregistered it while stopping the bundle
            }
            registration = null;
        }
    }
}
