package dmabuf.exporter.scanout;

import java.util.Dictionary;
import java.util.Hashtable;

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

import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.exporter.scanout.api.DumbBufferDevice;

/**
 * A scanout device per factory configuration of PID {@value #PID}: it creates the device (and its pool) and publishes
 * it twice, first as the {@link DmaBufExporter} whiteboard service its buffers are exported under, then as the
 * {@link DumbBufferDevice} that clients call, so the core knows the exporter before any client can export.
 * <p>
 * The services are registered by hand rather than by DS because their properties come from the configuration's
 * {@code name} ({@value DmaBufExporter#NAME}, {@value DmaBufExporter#DEVICE}) and change with it in place: a
 * configuration change revokes nothing.
 */
@Component(name = ScanoutComponent.PID, configurationPid = ScanoutComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true, service = {})
@Designate(ocd = ScanoutConfig.class, factory = true)
public final class ScanoutComponent {
    /** The factory PID and the component's name. */
    public static final String PID = "dmabuf.exporter.scanout";
    /** Service property: the pool's size in MB actually in force, an Integer. */
    public static final String MEMORY_MB = "scanout.memory.mb";
    /** Service property: the widest buffer, an Integer. */
    public static final String MAX_WIDTH = "scanout.max.width";
    /** Service property: the tallest buffer, an Integer. */
    public static final String MAX_HEIGHT = "scanout.max.height";
    /** What the exporter supports, as {@value DmaBufExporter#CAPABILITIES}. */
    static final String[] CAPABILITIES = {"vmap", "kmap", "mmap", "contiguous", "dma32", "dumb", "prime"};

    private final DeviceLog log;
    private final ScanoutDevice device;
    private final ServiceRegistration<?> exporterRegistration;
    private final ServiceRegistration<?> deviceRegistration;

    /**
     * Validates the configuration, creates the device with its pool and publishes it.
     *
     * @param context  this bundle's context
     * @param config   the device's configuration
     * @param registry this bundle's dma-buf registry
     * @param memory   this bundle's physical memory
     * @param logger   this component's logger
     */
    @Activate
    public ScanoutComponent(BundleContext context, ScanoutConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "memory") PhysicalMemory memory,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        this(context, settings(config), registry, memory, new OsgiDeviceLog(logger));
    }

    ScanoutComponent(BundleContext context, ScanoutSettings settings, DmaBufRegistry registry, PhysicalMemory memory,
            DeviceLog log) {
        this.log = log;
        this.device = new ScanoutDevice(settings, registry, memory, log);
        ServiceRegistration<?> exporter = null;
        try {
            exporter = context.registerService(DmaBufExporter.class, device, exporterProperties(settings));
            this.exporterRegistration = exporter;
            this.deviceRegistration = context.registerService(DumbBufferDevice.class, device,
                    deviceProperties(settings));
        } catch (RuntimeException e) {
            // SCR calls no deactivate for a failed activation: undo what is done.
            unregister(exporter);
            device.shutdown();
            throw e;
        }
        log.info("scanout device '" + settings.name() + "' started: " + settings.memoryMb() + " MB contiguous "
                + "below 4 GiB, at most " + settings.maxWidth() + "x" + settings.maxHeight());
    }

    /** The validated settings of a configuration. */
    static ScanoutSettings settings(ScanoutConfig config) {
        try {
            return ScanoutSettings.from(config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid configuration of " + PID + ": " + e.getMessage(), e);
        }
    }

    /** Applies a configuration change to the live device: nothing is revoked. */
    @Modified
    void modified(ScanoutConfig config) {
        ScanoutSettings requested;
        try {
            requested = settings(config);
        } catch (IllegalArgumentException e) {
            log.error("scanout device '" + device.name() + "': " + e.getMessage() + "; the configuration in force "
                    + "stays", e);
            return;
        }
        apply(requested);
    }

    void apply(ScanoutSettings requested) {
        ScanoutSettings effective = device.reconfigure(requested);
        try {
            exporterRegistration.setProperties(exporterProperties(effective));
            deviceRegistration.setProperties(deviceProperties(effective));
        } catch (IllegalStateException unregistered) {
            // the bundle is stopping
        }
    }

    /** Withdraws the device service, stops the device (revoking what importers hold, closing the pool), then the
     * exporter service. */
    @Deactivate
    void deactivate() {
        unregister(deviceRegistration);
        device.shutdown();
        unregister(exporterRegistration);
    }

    ScanoutDevice device() {
        return device;
    }

    static Dictionary<String, Object> exporterProperties(ScanoutSettings s) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(DmaBufExporter.NAME, s.name());
        props.put(DmaBufExporter.DEVICE, s.name());
        props.put(DmaBufExporter.CAPABILITIES, CAPABILITIES.clone());
        props.put(MEMORY_MB, (int) s.memoryMb());
        props.put(MAX_WIDTH, s.maxWidth());
        props.put(MAX_HEIGHT, s.maxHeight());
        props.put(Constants.SERVICE_DESCRIPTION, "dma-buf exporter of scanout device " + s.name());
        return props;
    }

    static Dictionary<String, Object> deviceProperties(ScanoutSettings s) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(DumbBufferDevice.DEVICE, s.name());
        props.put(MEMORY_MB, (int) s.memoryMb());
        props.put(MAX_WIDTH, s.maxWidth());
        props.put(MAX_HEIGHT, s.maxHeight());
        props.put(Constants.SERVICE_DESCRIPTION, "dumb buffers of scanout device " + s.name());
        return props;
    }

    private static void unregister(ServiceRegistration<?> registration) {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the framework unregistered it while stopping the bundle
            }
        }
    }
}
