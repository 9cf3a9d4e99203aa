package dmabuf.heap.memfd;

import java.util.Dictionary;
import java.util.Hashtable;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

import dmabuf.api.DmaBufExporter;

/**
 * A {@link DmaBufExporter} whiteboard service registered by hand, because its name follows configuration: a rename
 * changes the properties in place (the core revokes nothing on a modification).
 */
final class ExporterService {
    private final ServiceRegistration<DmaBufExporter> registration;
    private final String description;

    private ExporterService(ServiceRegistration<DmaBufExporter> registration, String description) {
        this.registration = registration;
        this.description = description;
    }

    /**
     * Registers the service.
     *
     * @param context     the bundle's context
     * @param service     the service object
     * @param name        the exporter name
     * @param device      the device node it stands for, e.g. {@code dma_heap/memfd}
     * @param description for the service description
     * @return the registration
     */
    static ExporterService register(BundleContext context, DmaBufExporter service, String name, String device,
            String description) {
        return new ExporterService(context.registerService(DmaBufExporter.class, service,
                properties(name, device, description)), description);
    }

    /** Switches to a new exporter name and device. */
    void rename(String name, String device) {
        registration.setProperties(properties(name, device, description));
    }

    /** Unregisters; idempotent. */
    void unregister() {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregistered it while stopping the bundle
        }
    }

    private static Dictionary<String, Object> properties(String name, String device, String description) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(DmaBufExporter.NAME, name);
        props.put(DmaBufExporter.DEVICE, device);
        props.put(DmaBufExporter.CAPABILITIES, new String[] {"vmap", "kmap", "mmap", "osfd"});
        props.put(Constants.SERVICE_DESCRIPTION, description);
        return props;
    }
}
