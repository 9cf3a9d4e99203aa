package dmabuf.exporter.gpu;

import org.osgi.framework.BundleContext;
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

import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.exporter.gpu.api.Gpu;

/**
 * One simulated GPU per factory configuration of PID {@value Gpu#PID} (configuration required): it creates a
 * {@link GpuDevice} with the bundle's registry and physical memory and registers it as the {@link Gpu} and
 * {@link DmaBufExporter} service.
 * <p>
 * The registration is made by hand rather than by DS because its {@code dmabuf.exporter.name} is derived from the
 * configuration's {@code name} (DS would publish the configuration's own keys only). A configuration change is
 * applied in place ({@link GpuDevice#reconfigure}): the service stays registered, so the core revokes nothing. On
 * deactivation the service goes first (the core revokes every buffer exported under the device's name), then the
 * device closes its handles, revokes what is left and closes its pools.
 */
@Component(name = Gpu.PID, configurationPid = Gpu.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        immediate = true, service = {})
@Designate(ocd = GpuConfig.class, factory = true)
public final class GpuComponent {
    private final GpuLog log;
    private final GpuDevice device;
    private final ServiceRegistration<?> registration;

    /**
     * Validates the configuration, creates the pools and publishes the device.
     *
     * @param context  this bundle's context
     * @param config   the factory configuration
     * @param registry this bundle's dma-buf registry
     * @param memory   this bundle's physical memory
     * @param logger   this component's logger
     */
    @Activate
    public GpuComponent(BundleContext context, GpuConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "memory") PhysicalMemory memory,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        this.log = new OsgiGpuLog(logger);
        this.device = new GpuDevice(GpuSettings.from(config), registry, memory, log);
        try {
            this.registration = context.registerService(
                    new String[] {Gpu.class.getName(), DmaBufExporter.class.getName()}, device,
                    device.serviceProperties());
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
    }

    /** Applies a changed configuration without revoking anything; an invalid one is logged and ignored. */
    @Modified
    void modified(GpuConfig config) {
        GpuSettings next;
        try {
            next = GpuSettings.from(config);
        } catch (IllegalArgumentException e) {
            log.warn(e.getMessage() + "; the configuration change is ignored");
            return;
        }
        device.reconfigure(next);
        try {
            registration.setProperties(device.serviceProperties());
        } catch (IllegalStateException unregistered) {
            // deactivating
        }
    }

    /** Withdraws the service (the core revokes the device's buffers), then stops the device. */
    @Deactivate
    void deactivate() {
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregistered it while stopping the bundle
        }
        device.close();
    }
}
