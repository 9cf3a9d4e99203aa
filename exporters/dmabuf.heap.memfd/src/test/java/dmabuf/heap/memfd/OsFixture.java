package dmabuf.heap.memfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.junit.jupiter.api.function.Executable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.log.Logger;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;
import dmabuf.core.drivers.DriverTracker;

/**
 * A real dma-buf core without a framework, the bundle of the OS-backed drivers ({@value #DRIVER_BUNDLE}, with its
 * registry {@link #driverRegistry} and a context whose DmaBufExporter registrations reach the core's driver tracker
 * as the core's DS references would) and an application bundle ({@link #caller}). Each test makes its own and closes
 * it.
 */
final class OsFixture implements AutoCloseable {
    static final long DRIVER_BUNDLE = 10;
    static final long CALLER = 20;
    static final long PAGE = 4096;

    final List<String> log = new CopyOnWriteArrayList<>();
    final DmaBufCore core;
    final DmaBufRegistry driverRegistry;
    final DmaBufRegistry caller;
    final BundleContext context;
    final Map<Long, Map<String, Object>> services = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong nextServiceId = new AtomicLong(100);
    private final List<Runnable> stops = new ArrayList<>();

    OsFixture() {
        core = new DmaBufCore(CoreConfig.DEFAULTS, new CoreLog() {
            @Override
            public void info(String message) {
                log.add(message);
            }

            @Override
            public void warn(String message) {
                log.add(message);
            }

            @Override
            public void error(String message, Throwable cause) {
                log.add(message);
            }

            @Override
            public void debug(String message) {
            }
        }, () -> {
        });
        driverRegistry = core.registryFor(core.openClient(DRIVER_BUNDLE, "dmabuf.heap.memfd"));
        caller = core.registryFor(core.openClient(CALLER, "camera.app"));
        context = bundleContext();
    }

    MemfdHeap memfdHeap(Map<String, Object> config) {
        MemfdHeap heap = new MemfdHeap(context, config(MemfdHeapConfig.class, config), driverRegistry, logger());
        stops.add(heap::deactivate);
        return heap;
    }

    UdmabufDevice udmabuf(Map<String, Object> config) {
        UdmabufDevice device = new UdmabufDevice(context, config(UdmabufConfig.class, config), driverRegistry,
                logger());
        stops.add(device::deactivate);
        return device;
    }

    KernelDmaHeaps kernelHeaps(Map<String, Object> config) {
        KernelDmaHeaps heaps = new KernelDmaHeaps(context, config(KernelHeapsConfig.class, config), driverRegistry,
                logger());
        stops.add(heaps::deactivate);
        return heaps;
    }

    /** Deactivates what is still active (in reverse), then stops the core. */
    @Override
    public void close() {
        for (int i = stops.size() - 1; i >= 0; i--) {
            stops.get(i).run();
        }
        core.shutdown();
    }

    /** Asserts that the call fails with the errno, and returns the exception for more checks. */
    static DmaBufException assertErrno(Errno errno, Executable call) {
        DmaBufException e = assertThrows(DmaBufException.class, call);
        assertEquals(errno, e.errno(), () -> "wrong errno; message was: " + e.getMessage());
        return e;
    }

    /** The process's open fds that are memfds whose name starts with {@code prefix}. */
    static long openMemfds(String prefix) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("/memfd:" + prefix);
                } catch (IOException e) {
                    return false; // the fd of the listing itself, closed by now
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The process's open fds. */
    static long openFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The lines of /proc/self/maps that contain {@code text} (all lines for ""). */
    static long mappings(String text) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(l -> l.contains(text)).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static <A> A config(Class<A> type, Map<String, Object> values) {
        return (A) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            String key = method.getName().replace('_', '.');
            if (values.containsKey(key)) {
                return values.get(key);
            }
            if (method.getDefaultValue() != null) {
                return method.getDefaultValue();
            }
            return switch (method.getName()) {
                case "annotationType" -> type;
                case "toString" -> type.getSimpleName() + values;
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> throw new UnsupportedOperationException(method.toString());
            };
        });
    }

    /** A logger that keeps every formatted message's format and arguments in {@link #log}. */
    Logger logger() {
        return (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> {
                    if (method.getReturnType() == boolean.class) {
                        return true;
                    }
                    if (method.getName().equals("hashCode")) {
                        return System.identityHashCode(proxy);
                    }
                    if (method.getName().equals("equals")) {
                        return proxy == args[0];
                    }
                    if (method.getReturnType() == String.class) {
                        return "test logger";
                    }
                    if (args != null && args.length > 0 && args[0] instanceof String format) {
                        StringBuilder sb = new StringBuilder(method.getName()).append(": ").append(format);
                        for (int i = 1; i < args.length; i++) {
                            sb.append(" | ").append(args[i] instanceof Object[] a ? java.util.Arrays.toString(a)
                                    : args[i]);
                        }
                        log.add(sb.toString());
                    }
                    return null;
                });
    }

    private BundleContext bundleContext() {
        return (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("registerService") && args.length == 3) {
                        return register(args[0], args[1], (Dictionary<?, ?>) args[2]);
                    }
                    return switch (method.getName()) {
                        case "toString" -> "BundleContext of dmabuf.heap.memfd";
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> throw new UnsupportedOperationException(method.toString());
                    };
                });
    }

    /** DmaBufExporter registrations go to the core's tracker; others (Udmabuf) are only recorded. */
    private ServiceRegistration<?> register(Object classes, Object service, Dictionary<?, ?> dict) {
        boolean exporter = classes == DmaBufExporter.class;
        long id = nextServiceId.getAndIncrement();
        Map<String, Object> props = dict == null ? new HashMap<>() : toMap(dict);
        props.put("objectClass", classes);
        services.put(id, props);
        if (exporter) {
            core.drivers().add(DriverTracker.Kind.EXPORTER, id, DRIVER_BUNDLE, props);
        }
        boolean[] gone = {false};
        return (ServiceRegistration<?>) Proxy.newProxyInstance(ServiceRegistration.class.getClassLoader(),
                new Class<?>[] {ServiceRegistration.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "setProperties" -> {
                            Map<String, Object> updated = toMap((Dictionary<?, ?>) args[0]);
                            services.put(id, updated);
                            if (exporter) {
                                core.drivers().modified(DriverTracker.Kind.EXPORTER, id, DRIVER_BUNDLE, updated);
                            }
                            return null;
                        }
                        case "unregister" -> {
                            synchronized (gone) {
                                if (gone[0]) {
                                    throw new IllegalStateException("service " + id + " is unregistered");
                                }
                                gone[0] = true;
                            }
                            services.remove(id);
                            if (exporter) {
                                core.drivers().remove(DriverTracker.Kind.EXPORTER, id);
                            }
                            return null;
                        }
                        case "hashCode" -> {
                            return (int) id;
                        }
                        case "equals" -> {
                            return proxy == args[0];
                        }
                        default -> {
                            return "ServiceRegistration " + id;
                        }
                    }
                });
    }

    private static Map<String, Object> toMap(Dictionary<?, ?> dict) {
        Map<String, Object> map = new HashMap<>();
        for (Enumeration<?> keys = dict.keys(); keys.hasMoreElements();) {
            Object key = keys.nextElement();
            map.put((String) key, dict.get(key));
        }
        return map;
    }
}
