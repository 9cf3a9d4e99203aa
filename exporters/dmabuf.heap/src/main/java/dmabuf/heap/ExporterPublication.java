package dmabuf.heap;

import java.util.Dictionary;
import java.util.Hashtable;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

import dmabuf.api.DmaBufExporter;

/**
 * A heap's {@link DmaBufExporter} whiteboard service, registered by hand because its properties follow the heap's
 * configured name: {@code dmabuf.exporter.name = "heap:" + name}, {@code dmabuf.exporter.device = "dma_heap/" +
 * name}, capabilities {@code vmap kmap mmap}. A rename changes the properties in place (one MODIFIED event): the
 * core re-validates the service and revokes nothing, and buffers exported before the rename stay bound to the same
 * service.
 */
final class ExporterPublication {
    /** The prefix of a heap's exporter name: heap names never collide with device exporters' names. */
    static final String EXPORTER_PREFIX = "heap:";
    /** The prefix of a heap's device, as its node under /dev. */
    static final String DEVICE_PREFIX = "dma_heap/";
    /** Service property: the heap's name, a String. */
    static final String HEAP_NAME = "dmabuf.heap.name";

    private final ServiceRegistration<DmaBufExporter> registration;
    private final String placement;

    private ExporterPublication(ServiceRegistration<DmaBufExporter> registration, String placement) {
        this.registration = registration;
        this.placement = placement;
    }

    /** The exporter name of the heap with this name. */
    static String exporterName(String heapName) {
        return EXPORTER_PREFIX + heapName;
    }

    /**
     * Registers the service.
     *
     * @param context   the heap bundle's context
     * @param service   the service object
     * @param heapName  the heap's name
     * @param placement what the heap gives, for the description
     * @return the publication
     */
    static ExporterPublication register(BundleContext context, DmaBufExporter service, String heapName,
            String placement) {
        return new ExporterPublication(
                context.registerService(DmaBufExporter.class, service, properties(heapName, placement)), placement);
    }

    /** Switches the properties to a new heap name. */
    void rename(String heapName) {
        registration.setProperties(properties(heapName, placement));
    }

    /** Unregisters; the core then revokes whatever is still exported under the service. Idempotent. */
    void unregister() {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregistered it while stopping the bundle
        }
    }

    static Dictionary<String, Object> properties(String heapName, String placement) {
        Hashtable<String, Object> props = new Hashtable<>();
        props.put(DmaBufExporter.NAME, exporterName(heapName));
        props.put(DmaBufExporter.DEVICE, DEVICE_PREFIX + heapName);
        props.put(DmaBufExporter.CAPABILITIES, new String[] {"vmap", "kmap", "mmap"});
        props.put(HEAP_NAME, heapName);
        props.put(Constants.SERVICE_DESCRIPTION, "dma-heap '" + heapName + "' (" + placement + ")");
        return props;
    }
}
