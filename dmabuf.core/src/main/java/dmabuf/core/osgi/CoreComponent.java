package dmabuf.core.osgi;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufImporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.core.CoreConfig;
import dmabuf.core.DmaBufCore;
import dmabuf.core.drivers.DriverTracker;

/**
 * The core as a DS component: it owns one {@link DmaBufCore}, publishes the bundle-scoped {@link DmaBufRegistry}
 * (a ServiceFactory: each bundle gets its own file table, reclaimed when the bundle ungets it) and the
 * {@link DmaBufRuntime}, and tracks the driver whiteboard with dynamic references.
 * <p>
 * Services are registered by hand rather than by DS because the registry needs a per-bundle facade whose
 * release is the reclaim checkpoint, and the runtime needs its {@code service.changecount} updated.
 */
@Component(name = "dmabuf.core", configurationPid = "dmabuf.core", configurationPolicy = ConfigurationPolicy.OPTIONAL,
        immediate = true, service = {})
@Designate(ocd = CoreSettings.class)
public final class CoreComponent {
    private final DmaBufCore core;
    private final ChangeCountPublisher publisher;
    private final ServiceRegistration<DmaBufRegistry> registryRegistration;
    private final ServiceRegistration<DmaBufRuntime> runtimeRegistration;

    /**
     * Starts the core.
     *
     * @param context  the core bundle's context
     * @param settings the configuration (or its defaults)
     * @param logger   the OSGi logger of this component
     */
    @Activate
    public CoreComponent(BundleContext context, CoreSettings settings,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        OsgiCoreLog log = new OsgiCoreLog(logger);
        this.publisher = new ChangeCountPublisher(settings.changecount_delay_ms(), log);
        this.core = new DmaBufCore(toConfig(settings), log, publisher::changed);
        Dictionary<String, Object> runtimeProps = new Hashtable<>();
        runtimeProps.put(Constants.SERVICE_CHANGECOUNT, core.changeCount());
        runtimeProps.put(Constants.SERVICE_DESCRIPTION, "dma-buf core runtime");
        this.runtimeRegistration = context.registerService(DmaBufRuntime.class, new RuntimeService(core),
                runtimeProps);
        publisher.start(runtimeRegistration, core::changeCount);
        Dictionary<String, Object> registryProps = new Hashtable<>();
        registryProps.put(Constants.SERVICE_DESCRIPTION, "dma-buf registry (bundle-scoped)");
        this.registryRegistration = context.registerService(DmaBufRegistry.class,
                new RegistryServiceFactory(core), registryProps);
        log.info("dma-buf core started: fd_limit=" + settings.fd_limit() + ", leak_report_level="
                + settings.leak_report_level());
    }

    /** Applies a new configuration without revoking anything. */
    @Modified
    void modified(CoreSettings settings) {
        core.configure(toConfig(settings));
    }

    /** Unpublishes the services (every bundle's holdings are reclaimed) and revokes whatever remains. */
    @Deactivate
    void deactivate() {
        safeUnregister(registryRegistration);
        core.shutdown();
        publisher.stop();
        safeUnregister(runtimeRegistration);
    }

    @Reference(service = DmaBufExporter.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            updated = "updatedExporter", unbind = "removeExporter")
    void addExporter(ServiceReference<DmaBufExporter> ref) {
        core.drivers().add(DriverTracker.Kind.EXPORTER, serviceId(ref), ref.getBundle().getBundleId(),
                properties(ref));
    }

    void updatedExporter(ServiceReference<DmaBufExporter> ref) {
        core.drivers().modified(DriverTracker.Kind.EXPORTER, serviceId(ref), ref.getBundle().getBundleId(),
                properties(ref));
    }

    void removeExporter(ServiceReference<DmaBufExporter> ref) {
        core.drivers().remove(DriverTracker.Kind.EXPORTER, serviceId(ref));
    }

    @Reference(service = DmaBufImporter.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            updated = "updatedImporter", unbind = "removeImporter")
    void addImporter(ServiceReference<DmaBufImporter> ref) {
        core.drivers().add(DriverTracker.Kind.IMPORTER, serviceId(ref), ref.getBundle().getBundleId(),
                properties(ref));
    }

    void updatedImporter(ServiceReference<DmaBufImporter> ref) {
        core.drivers().modified(DriverTracker.Kind.IMPORTER, serviceId(ref), ref.getBundle().getBundleId(),
                properties(ref));
    }

    void removeImporter(ServiceReference<DmaBufImporter> ref) {
        core.drivers().remove(DriverTracker.Kind.IMPORTER, serviceId(ref));
    }

    private static long serviceId(ServiceReference<?> ref) {
        return (Long) ref.getProperty(Constants.SERVICE_ID);
    }

    private static Map<String, Object> properties(ServiceReference<?> ref) {
        Map<String, Object> props = new java.util.HashMap<>();
        for (String key : ref.getPropertyKeys()) {
            Object value = ref.getProperty(key);
            if (value != null) {
                props.put(key, value);
            }
        }
        return props;
    }

    private static CoreConfig toConfig(CoreSettings s) {
        return new CoreConfig(s.fd_limit(), s.leak_report_level(), s.lock_timeout_ms(), s.drain_timeout_ms(),
                s.leak_history(), s.leak_sampling_interval(), s.fence_timeout_ms());
    }

    private static void safeUnregister(ServiceRegistration<?> registration) {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregistered it while stopping the bundle
        }
    }
}
