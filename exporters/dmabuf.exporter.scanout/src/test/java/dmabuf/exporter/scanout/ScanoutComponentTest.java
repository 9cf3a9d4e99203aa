package dmabuf.exporter.scanout;

import static dmabuf.exporter.scanout.ScanoutFixture.MB;
import static dmabuf.exporter.scanout.ScanoutFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.Errno;
import dmabuf.exporter.scanout.api.DumbBufferDevice;

/**
 * The DS component without a framework: a recording BundleContext stands in for the framework, the configuration is
 * an instance of the OCD annotation, and the core learns about the exporter service the way its tracker would.
 */
class ScanoutComponentTest {
    /** A registration as the recording context saw it. */
    static final class Reg {
        final String clazz;
        final Object service;
        Dictionary<String, ?> props;
        boolean unregistered;

        Reg(String clazz, Object service, Dictionary<String, ?> props) {
            this.clazz = clazz;
            this.service = service;
            this.props = props;
        }
    }

    private final List<Reg> regs = new ArrayList<>();
    private final List<String> events = new ArrayList<>();
    private final ScanoutFixture f = new ScanoutFixture(new ScanoutSettings("fixture", MB, 64, 64));

    @AfterEach
    void close() {
        f.close();
    }

    /** A BundleContext that records registerService and the registrations' setProperties/unregister. */
    private BundleContext context() {
        return (BundleContext) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, m, args) -> {
                    if (!m.getName().equals("registerService")) {
                        throw new UnsupportedOperationException(m.getName());
                    }
                    String clazz = args[0] instanceof Class<?> c ? c.getName() : (String) args[0];
                    @SuppressWarnings("unchecked")
                    Reg r = new Reg(clazz, args[1], (Dictionary<String, ?>) args[2]);
                    regs.add(r);
                    events.add("register " + clazz);
                    if (clazz.equals(DmaBufExporter.class.getName())) {
                        f.core.drivers().add(dmabuf.core.drivers.DriverTracker.Kind.EXPORTER, 500 + regs.size(),
                                ScanoutFixture.SCANOUT_BUNDLE, toMap(r.props));
                    }
                    return registration(r);
                });
    }

    private ServiceRegistration<?> registration(Reg r) {
        return (ServiceRegistration<?>) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {ServiceRegistration.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "setProperties" -> {
                        @SuppressWarnings("unchecked")
                        Dictionary<String, ?> d = (Dictionary<String, ?>) args[0];
                        r.props = d;
                        events.add("modify " + r.clazz);
                        yield null;
                    }
                    case "unregister" -> {
                        if (r.unregistered) {
                            throw new IllegalStateException("already unregistered");
                        }
                        r.unregistered = true;
                        events.add("unregister " + r.clazz);
                        if (r.clazz.equals(DmaBufExporter.class.getName())) {
                            f.core.drivers().remove(dmabuf.core.drivers.DriverTracker.Kind.EXPORTER,
                                    500 + regs.indexOf(r) + 1);
                        }
                        yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(m.getName());
                });
    }

    private static Map<String, Object> toMap(Dictionary<String, ?> d) {
        Map<String, Object> m = new HashMap<>();
        for (var keys = d.keys(); keys.hasMoreElements();) {
            String k = keys.nextElement();
            m.put(k, d.get(k));
        }
        return m;
    }

    /** An instance of the OCD annotation with the given values over its defaults, as SCR makes one. */
    static ScanoutConfig config(Map<String, Object> values) {
        return (ScanoutConfig) Proxy.newProxyInstance(ScanoutComponentTest.class.getClassLoader(),
                new Class<?>[] {ScanoutConfig.class}, (proxy, m, args) -> {
                    if (m.getName().equals("annotationType")) {
                        return ScanoutConfig.class;
                    }
                    Object v = values.get(m.getName());
                    return v != null ? v : m.getDefaultValue();
                });
    }

    private ScanoutComponent activate(ScanoutConfig config) {
        return new ScanoutComponent(context(), ScanoutComponent.settings(config), f.exp, f.memory, f.deviceLog);
    }

    @Test
    void theDefaultsAreCard0With64MbAnd8192Squared() {
        assertEquals(ScanoutSettings.DEFAULTS, ScanoutSettings.from(config(Map.of())));
    }

    @Test
    void invalidConfigurationsAreRefusedSayingWhy() {
        for (Map<String, Object> bad : List.<Map<String, Object>>of(Map.of("name", " "), Map.of("memory_mb", 0),
                Map.of("memory_mb", 4097), Map.of("max_width", 0), Map.of("max_height", -5))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ScanoutComponent.settings(config(bad)), bad.toString());
            assertTrue(e.getMessage().startsWith("invalid configuration of dmabuf.exporter.scanout"),
                    e.getMessage());
        }
    }

    @Test
    void activationRegistersTheExporterBeforeTheDeviceBothNamedAfterTheConfiguration() {
        ScanoutComponent c = activate(config(Map.of("name", "card7", "memory_mb", 2, "max_width", 1024)));
        assertEquals(List.of("register " + DmaBufExporter.class.getName(),
                "register " + DumbBufferDevice.class.getName()), events);
        Reg exporter = regs.get(0);
        Reg device = regs.get(1);
        assertEquals("card7", exporter.props.get(DmaBufExporter.NAME));
        assertEquals("card7", exporter.props.get(DmaBufExporter.DEVICE));
        assertArrayEquals(ScanoutComponent.CAPABILITIES, (String[]) exporter.props.get(DmaBufExporter.CAPABILITIES));
        assertEquals("card7", device.props.get(DumbBufferDevice.DEVICE));
        assertEquals(2, device.props.get(ScanoutComponent.MEMORY_MB));
        assertEquals(1024, device.props.get(ScanoutComponent.MAX_WIDTH));
        assertSame(c.device(), device.service);

        DumbBufferDevice dev = (DumbBufferDevice) device.service;
        int h = dev.createDumb(1024, 512, 32, 0).handle();
        DmaBuf buf = dev.exportDumb(h, DumbBufferDevice.DRM_RDWR);
        assertEquals("card7", buf.exporterName(), "exported under the registered exporter service");
        assertEquals(2 * MB, c.device().pool().capacity());
        assertErrno(Errno.EINVAL, () -> dev.createDumb(1025, 1, 32, 0));

        c.deactivate();
        assertEquals(List.of("unregister " + DumbBufferDevice.class.getName(),
                "unregister " + DmaBufExporter.class.getName()), events.subList(2, 4),
                "no new calls first, the exporter service last");
        assertTrue(c.device().isStopped());
        assertNull(c.device().pool());
        assertErrno(Errno.ENODEV, () -> dev.createDumb(64, 64, 32, 0));
    }

    @Test
    void aConfigurationChangeUpdatesThePropertiesAndRevokesNothing() {
        ScanoutComponent c = activate(config(Map.of("name", "card1", "memory_mb", 2)));
        DumbBufferDevice dev = c.device();
        int h = dev.createDumb(64, 64, 32, 0).handle();
        DmaBuf buf = f.imp.get(dev.exportDumb(h, DumbBufferDevice.DRM_RDWR));

        c.modified(config(Map.of("name", "card1", "memory_mb", 4, "max_width", 128, "max_height", 32)));
        assertEquals(List.of("modify " + DmaBufExporter.class.getName(), "modify " + DumbBufferDevice.class.getName()),
                events.subList(2, 4));
        Reg device = regs.get(1);
        assertEquals(128, device.props.get(ScanoutComponent.MAX_WIDTH));
        assertEquals(2, device.props.get(ScanoutComponent.MEMORY_MB), "the size in force: a buffer lives");
        assertEquals(128, dev.createDumb(128, 32, 8, 0).pitch());
        f.imp.beginCpuAccess(buf, dmabuf.api.DmaDataDirection.TO_DEVICE); // the buffer is still live
        f.imp.endCpuAccess(buf, dmabuf.api.DmaDataDirection.TO_DEVICE);

        c.modified(config(Map.of("name", "card1", "memory_mb", 0)));
        assertTrue(f.deviceLog.errors.stream().anyMatch(e -> e.contains("memory.mb 0")), f.deviceLog.problems());
        assertEquals(128, c.device().settings().maxWidth(), "an invalid configuration changes nothing");

        f.imp.put(buf);
        c.deactivate();
    }

    @Test
    void aFailedActivationLeavesNothingBehind() {
        // A second device of the same name: its pool name is taken, so creating the device fails.
        ScanoutComponent first = activate(config(Map.of("name", "card2", "memory_mb", 1)));
        int before = regs.size();
        assertErrno(Errno.EINVAL, () -> activate(config(Map.of("name", "card2", "memory_mb", 1))));
        assertEquals(before, regs.size(), "nothing registered for the failed one");
        first.deactivate();
    }
}
