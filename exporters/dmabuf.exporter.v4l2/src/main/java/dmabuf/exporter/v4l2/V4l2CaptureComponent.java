package dmabuf.exporter.v4l2;

import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.TimeUnit;

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

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.exporter.v4l2.api.BufferInfo;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.Frame;
import dmabuf.exporter.v4l2.api.PixelFormat;

/**
 * One V4L2-like capture device per factory configuration of PID {@value #PID}.
 * <p>
 * The component creates the device (and with it the device's contiguous pool) in its constructor, then registers
 * itself as one service under both {@link CaptureDevice} and {@link DmaBufExporter}, with properties computed from the
 * configuration: {@link DmaBufExporter#NAME} and {@link DmaBufExporter#DEVICE} = the device's name,
 * {@link DmaBufExporter#CAPABILITIES}, {@link CaptureDevice#DEVICE_NAME} and {@link CaptureDevice#PIXEL_FORMATS}.
 * (It registers the service itself because DS cannot derive service property names from configuration values.)
 * <p>
 * A configuration change is applied by {@link #modified} without revoking anything (see
 * {@link VideoDevice#apply}); the service properties follow. Deactivation stops the generator, unregisters the
 * service (the core then revokes the device's buffers), revokes whatever is still alive, and closes the pool.
 */
@Component(name = V4l2CaptureComponent.PID, configurationPid = V4l2CaptureComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, immediate = true, service = {})
@Designate(ocd = V4l2Config.class, factory = true)
public final class V4l2CaptureComponent implements CaptureDevice, DmaBufExporter {
    /** The factory PID and component name. */
    public static final String PID = "dmabuf.exporter.v4l2";
    /** What the device's buffers support, as {@link DmaBufExporter#CAPABILITIES}. */
    static final String[] CAPABILITIES = {"vmap", "kmap", "mmap", "contiguous"};

    private final VideoDevice device;
    private final DeviceLog log;
    private final ServiceRegistration<?> registration;

    /**
     * Creates the device and registers its services.
     *
     * @param context  this bundle's context, to register the services
     * @param config   the factory configuration
     * @param registry this bundle's dma-buf registry
     * @param memory   this bundle's physical memory
     * @param logger   this component's logger
     * @throws IllegalArgumentException for an invalid configuration, naming the key
     * @throws DmaBufException          when the pool cannot be created (a device of the same name exists: EINVAL;
     *                                  no memory: ENOMEM)
     */
    @Activate
    public V4l2CaptureComponent(BundleContext context, V4l2Config config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "memory") PhysicalMemory memory,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        DeviceSettings settings = DeviceSettings.from(config);
        this.log = new OsgiLog(logger);
        this.device = new VideoDevice(settings, registry, memory, log);
        try {
            this.registration = context.registerService(
                    new String[] {CaptureDevice.class.getName(), DmaBufExporter.class.getName()}, this,
                    properties(settings));
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
    }

    /** Applies a changed configuration; an invalid one is logged and ignored. */
    @Modified
    void modified(V4l2Config config) {
        DeviceSettings next;
        try {
            next = DeviceSettings.from(config);
        } catch (IllegalArgumentException e) {
            log.warn("capture device '" + device.name() + "': configuration change ignored: " + e.getMessage());
            return;
        }
        device.apply(next, applied -> {
            try {
                registration.setProperties(properties(applied));
            } catch (IllegalStateException unregistered) {
                // deactivating
            }
        });
    }

    /** Stops the stream, withdraws the services (the core revokes the buffers), then frees everything. */
    @Deactivate
    void deactivate() {
        try {
            device.streamOff();
        } catch (DmaBufException alreadyClosed) {
            // nothing to stop
        }
        try {
            registration.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregistered it while stopping the bundle
        }
        device.close();
    }

    /** The service properties for these settings. */
    static Dictionary<String, Object> properties(DeviceSettings settings) {
        Hashtable<String, Object> p = new Hashtable<>();
        p.put(DmaBufExporter.NAME, settings.name());
        p.put(DmaBufExporter.DEVICE, settings.name());
        p.put(DmaBufExporter.CAPABILITIES, CAPABILITIES.clone());
        p.put(CaptureDevice.DEVICE_NAME, settings.name());
        p.put(CaptureDevice.PIXEL_FORMATS,
                Arrays.stream(PixelFormat.values()).map(PixelFormat::fourcc).toArray(String[]::new));
        return p;
    }

    // ---- CaptureDevice, delegated -------------------------------------------------------------------------------

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public Format format() {
        return device.format();
    }

    @Override
    public Format tryFormat(PixelFormat pixelFormat, int width, int height) {
        return device.tryFormat(pixelFormat, width, height);
    }

    @Override
    public Format setFormat(PixelFormat pixelFormat, int width, int height) {
        return device.setFormat(pixelFormat, width, height);
    }

    @Override
    public int requestBuffers(int count) {
        return device.requestBuffers(count);
    }

    @Override
    public BufferInfo queryBuffer(int index) {
        return device.queryBuffer(index);
    }

    @Override
    public void queue(int index) {
        device.queue(index);
    }

    @Override
    public Frame dequeue(long timeout, TimeUnit unit) {
        return device.dequeue(timeout, unit);
    }

    @Override
    public void streamOn() {
        device.streamOn();
    }

    @Override
    public void streamOff() {
        device.streamOff();
    }

    @Override
    public boolean isStreaming() {
        return device.isStreaming();
    }

    @Override
    public DmaBuf exportBuffer(int index, int flags) {
        return device.exportBuffer(index, flags);
    }

    @Override
    public int fps() {
        return device.fps();
    }

    @Override
    public String toString() {
        return "V4L2 capture device '" + device.name() + "'";
    }

    /** The device's messages to the OSGi Log Service. */
    private record OsgiLog(Logger logger) implements DeviceLog {
        @Override
        public void info(String message) {
            logger.info("{}", message);
        }

        @Override
        public void warn(String message) {
            logger.warn("{}", message);
        }

        @Override
        public void error(String message, Throwable cause) {
            if (cause == null) {
                logger.error("{}", message);
            } else {
                logger.error("{}", message, cause);
            }
        }
    }
}
