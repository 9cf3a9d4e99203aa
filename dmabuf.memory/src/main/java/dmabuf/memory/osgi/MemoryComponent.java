package dmabuf.memory.osgi;

import java.util.Dictionary;
import java.util.Hashtable;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import dmabuf.api.memory.PhysicalMemory;
import dmabuf.memory.MemoryConfig;
import dmabuf.memory.MemoryEngine;
import dmabuf.memory.MemoryLog;

/**
 * The physical memory as a DS component: it owns one {@link MemoryEngine} and publishes {@link PhysicalMemory} as a
 * bundle-scoped service (a ServiceFactory: each bundle's facade charges that bundle, and its pools are reclaimed when
 * it ungets the service).
 * <p>
 * The service is registered by hand rather than by DS because the per-bundle facade's release is the reclaim
 * checkpoint, as for the core's registry.
 */
@Component(name = "dmabuf.memory", configurationPid = MemoryConfig.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true, service = {})
@Designate(ocd = MemorySettings.class)
public final class MemoryComponent {
    private final MemoryLog log;
    private final MemoryEngine engine;
    private final ServiceRegistration<PhysicalMemory> registration;

    /**
     * Starts the engine and publishes the service.
     *
     * @param context  this bundle's context
     * @param settings the configuration (or its defaults)
     * @param logger   the OSGi logger of this component
     */
    @Activate
    public MemoryComponent(BundleContext context, MemorySettings settings,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        this.log = new OsgiMemoryLog(logger);
        this.engine = new MemoryEngine(toConfig(settings, log), log, id -> {
            Bundle b = context.getBundle(id);
            return b == null ? null : b.getSymbolicName();
        });
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(Constants.SERVICE_DESCRIPTION, "dma-buf physical memory (bundle-scoped)");
        this.registration = context.registerService(PhysicalMemory.class, new PhysicalMemoryServiceFactory(engine),
                props);
        MemoryConfig c = engine.config();
        log.info("physical memory started: limit " + settings.limit_mb() + " MB, default quota "
                + (c.defaultQuotaBytes() == 0 ? "none" : settings.quota_mb() + " MB") + ", per-bundle quotas "
                + c.quotaBytes() + ", backing " + (engine.nativeBacking() ? "memfd" : "arena"));
    }

    /** Applies new limits; existing pools and allocations are not touched. */
    @Modified
    void modified(MemorySettings settings) {
        engine.configure(toConfig(settings, log));
    }

    /** Unpublishes the service (every bundle's pools are reclaimed) and closes whatever remains. */
    @Deactivate
    void deactivate() {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregistered it while stopping the bundle
        }
        engine.shutdown();
    }

    /** The typed configuration; bad values are logged and replaced by defaults. */
    static MemoryConfig toConfig(MemorySettings s, MemoryLog log) {
        return MemoryConfig.fromMegabytes(s.limit_mb(), s.quota_mb(), s.quotas(),
                problem -> log.warn("configuration '" + MemoryConfig.PID + "': " + problem));
    }
}
