package dmabuf.core.osgi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceFactory;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.log.Logger;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.ExportInfo;
import dmabuf.core.TestExporter;

/**
 * The core must know every exporter service that exists when it publishes its registry: an exporter that started
 * before the core gets the registry the moment it is registered and exports under its name at once (DS may activate
 * it from inside the registration). DS would bind the core's references only after its constructor, which publishes
 * the registry, so the core tracks the whiteboard itself, opened first. A framework-free check with a scripted
 * BundleContext: the exporter exports from within the registry's registration.
 */
class CoreComponentStartTest {
    private static final long EXPORTER_BUNDLE = 42;

    /** What the scripted exporter bundle did when the registry was registered. */
    private final List<DmaBuf> exported = new ArrayList<>();
    private final List<String> events = new ArrayList<>();

    @Test
    void anExporterPresentBeforeTheCoreCanExportTheMomentTheRegistryIsPublished() {
        CoreComponent component = new CoreComponent(context(), settings(), logger());
        try {
            assertEquals(1, exported.size(), "the early exporter exported from inside the registration: " + events);
            assertEquals("early", exported.get(0).exporterName());
        } finally {
            component.deactivate();
        }
        assertEquals(List.of("tracker opened", "registry registered"), events.stream()
                .filter(e -> e.equals("tracker opened") || e.equals("registry registered")).distinct().toList());
    }

    private BundleContext context() {
        Bundle exporterBundle = proxy(Bundle.class, (p, m, a) -> switch (m.getName()) {
            case "getBundleId" -> EXPORTER_BUNDLE;
            case "getSymbolicName" -> "early.exporter";
            default -> standard(p, m, a);
        });
        Map<String, Object> props = Map.of(Constants.SERVICE_ID, 7L, Constants.OBJECTCLASS,
                new String[] {DmaBufExporter.class.getName()}, DmaBufExporter.NAME, "early");
        ServiceReference<?> exporterRef = proxy(ServiceReference.class, (p, m, a) -> switch (m.getName()) {
            case "getProperty" -> props.get(a[0]);
            case "getPropertyKeys" -> props.keySet().toArray(new String[0]);
            case "getBundle" -> exporterBundle;
            case "isAssignableTo" -> true;
            case "compareTo" -> 0;
            default -> standard(p, m, a);
        });
        return proxy(BundleContext.class, (p, m, a) -> switch (m.getName()) {
            case "createFilter" -> FrameworkUtil.createFilter((String) a[0]);
            case "addServiceListener" -> {
                events.add("tracker opened");
                yield null;
            }
            case "removeServiceListener" -> null;
            case "getServiceReferences", "getAllServiceReferences" ->
                String.valueOf(a[1]).contains(DmaBufExporter.class.getName())
                        || DmaBufExporter.class.getName().equals(a[0]) ? new ServiceReference<?>[] {exporterRef}
                                : null;
            case "registerService" -> register(a[0], a[1], exporterBundle);
            case "getProperty" -> null;
            default -> standard(p, m, a);
        });
    }

    /** Records the registration; for the registry, the early exporter gets it and exports, as DS would make it. */
    @SuppressWarnings("unchecked")
    private ServiceRegistration<?> register(Object clazz, Object service, Bundle exporterBundle) {
        String name = clazz instanceof Class<?> c ? c.getName() : String.valueOf(clazz);
        ServiceRegistration<?> registration = proxy(ServiceRegistration.class, (p, m, a) -> switch (m.getName()) {
            case "setProperties", "unregister" -> null;
            default -> standard(p, m, a);
        });
        if (name.equals(DmaBufRegistry.class.getName())) {
            events.add("registry registered");
            DmaBufRegistry registry = ((ServiceFactory<DmaBufRegistry>) service).getService(exporterBundle,
                    (ServiceRegistration<DmaBufRegistry>) registration);
            assertNotNull(registry);
            DmaBuf buf = registry.export(ExportInfo.builder(new TestExporter(DmaBufUapi.PAGE_SIZE),
                    DmaBufUapi.PAGE_SIZE).exporter("early").build());
            exported.add(buf);
            registry.put(buf);
        }
        return registration;
    }

    private static CoreSettings settings() {
        return proxy(CoreSettings.class, (p, m, a) -> m.getDefaultValue() != null ? m.getDefaultValue()
                : standard(p, m, a));
    }

    private static Logger logger() {
        return proxy(Logger.class, (p, m, a) -> standard(p, m, a));
    }

    /** Object's methods by identity; anything else does nothing and answers false, 0 or null. */
    private static Object standard(Object proxy, java.lang.reflect.Method method, Object[] args) {
        switch (method.getName()) {
            case "hashCode":
                return System.identityHashCode(proxy);
            case "equals":
                return proxy == args[0];
            case "toString":
                return "scripted " + proxy.getClass().getInterfaces()[0].getSimpleName();
            default:
                break;
        }
        Class<?> type = method.getReturnType();
        if (type == boolean.class) {
            return Boolean.FALSE;
        }
        if (type == int.class) {
            return 0;
        }
        if (type == long.class) {
            return 0L;
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(CoreComponentStartTest.class.getClassLoader(), new Class<?>[] {type},
                handler);
    }

}
