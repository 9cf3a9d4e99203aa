package dmabuf.heap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.function.Executable;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.log.Logger;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;
import dmabuf.core.drivers.DriverTracker;
import dmabuf.memory.BundleMemory;
import dmabuf.memory.MemoryConfig;
import dmabuf.memory.MemoryEngine;
import dmabuf.memory.MemoryLog;

/**
 * A real dma-buf core and memory engine without a framework, and the bundles around the heaps:
 * <ul>
 * <li>{@value #HEAP_BUNDLE} "dmabuf.heap": the heaps' bundle, with its registry ({@link #heapRegistry}), its
 * physical memory ({@link #heapMemory}) and a bundle context ({@link #context}) whose service registrations reach the
 * core's driver tracker as the core's DS references would;</li>
 * <li>{@value #CALLER} "camera.app": a bundle that allocates from the heaps and imports ({@link #caller}); its
 * physical memory ({@link #callerMemory}) is how its "device" resolves bus addresses, as a DMA engine would;</li>
 * <li>{@value #OTHER} "display.app": another allocating bundle ({@link #other}).</li>
 * </ul>
 * Each test makes its own and closes it.
 */
final class HeapFixture implements AutoCloseable {
    static final long HEAP_BUNDLE = 10;
    static final long CALLER = 20;
    static final long OTHER = 30;
    static final long MIB = 1L << 20;
    static final long PAGE = 4096;

    private static final Map<Long, String> BUNDLES = Map.of(HEAP_BUNDLE, "dmabuf.heap", CALLER, "camera.app", OTHER,
            "display.app");

    final Recorder coreLog = new Recorder();
    final Recorder memoryLog = new Recorder();
    final RecordingLogger logger = new RecordingLogger();
    final MemoryEngine engine;
    final DmaBufCore core;
    final BundleMemory heapMemory;
    final BundleMemory callerMemory;
    final DmaBufRegistry heapRegistry;
    final DmaBufRegistry caller;
    final DmaBufRegistry other;
    final BundleContext context;
    /** The services the heap bundle registered, by service id, with their current properties; removed when gone. */
    final Map<Long, Map<String, Object>> services = Collections.synchronizedMap(new HashMap<>());
    private final AtomicLong nextServiceId = new AtomicLong(100);
    private final List<HeapDriver> heaps = new ArrayList<>();

    HeapFixture() {
        this(MemoryConfig.DEFAULTS);
    }

    HeapFixture(MemoryConfig memoryConfig) {
        this(memoryConfig, true);
    }

    /** With {@code nativeBacking} false, pools are arena memory: scattered pages cannot be aliased (no vmap). */
    HeapFixture(MemoryConfig memoryConfig, boolean nativeBacking) {
        engine = new MemoryEngine(memoryConfig, memoryLog, BUNDLES::get, nativeBacking);
        core = new DmaBufCore(CoreConfig.DEFAULTS, coreLog, () -> {
        });
        heapMemory = engine.openBundle(HEAP_BUNDLE, BUNDLES.get(HEAP_BUNDLE));
        callerMemory = engine.openBundle(CALLER, BUNDLES.get(CALLER));
        heapRegistry = core.registryFor(core.openClient(HEAP_BUNDLE, BUNDLES.get(HEAP_BUNDLE)));
        caller = core.registryFor(core.openClient(CALLER, BUNDLES.get(CALLER)));
        other = core.registryFor(core.openClient(OTHER, BUNDLES.get(OTHER)));
        context = bundleContext();
    }

    /** A system heap with these configuration values (the rest default), as SCR would activate it. */
    SystemHeap system(Map<String, Object> config) {
        SystemHeap heap = new SystemHeap(context, config(SystemHeapConfig.class, config), heapRegistry, heapMemory,
                logger.logger());
        heaps.add(heap);
        return heap;
    }

    /** A CMA heap with these configuration values (the rest default), as SCR would activate it. */
    CmaHeap cma(Map<String, Object> config) {
        CmaHeap heap = new CmaHeap(context, config(CmaHeapConfig.class, config), heapRegistry, heapMemory,
                logger.logger());
        heaps.add(heap);
        return heap;
    }

    /** Deactivates what is still active, then stops the core and the engine. */
    @Override
    public void close() {
        for (HeapDriver heap : heaps) {
            heap.stop();
        }
        core.shutdown();
        engine.shutdown();
    }

    /**
     * A component property type instance as SCR builds it: values by configuration key ({@code size.mb} for
     * {@code size_mb()}), the annotation's defaults for the rest.
     */
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

    // ---- what the engine and the core show

    /** The stats of one pool, or null when it is closed. */
    MemoryStatsDTO.PoolStatsDTO pool(String name) {
        for (MemoryStatsDTO.PoolStatsDTO p : engine.stats().pools) {
            if (p.name.equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** The stats of one bundle, or null. */
    MemoryStatsDTO.BundleStatsDTO bundle(long id) {
        for (MemoryStatsDTO.BundleStatsDTO b : engine.stats().bundles) {
            if (b.bundleId == id) {
                return b;
            }
        }
        return null;
    }

    /** The live bytes charged to a bundle (0 when it has no account). */
    long liveBytes(long bundleId) {
        MemoryStatsDTO.BundleStatsDTO b = bundle(bundleId);
        return b == null ? 0 : b.live;
    }

    /** The properties of the one DmaBufExporter service the heap bundle has registered under this name, or null. */
    Map<String, Object> exporterService(String exporterName) {
        synchronized (services) {
            for (Map<String, Object> props : services.values()) {
                if (exporterName.equals(props.get(DmaBufExporter.NAME))) {
                    return props;
                }
            }
        }
        return null;
    }

    // ---- helpers for tests

    /** Asserts that the call fails with the errno, and returns the exception for more checks. */
    static DmaBufException assertErrno(Errno errno, Executable call) {
        DmaBufException e = assertThrows(DmaBufException.class, call);
        assertEquals(errno, e.errno(), () -> "wrong errno; message was: " + e.getMessage());
        return e;
    }

    /** The index of the first non-zero byte, or -1 when every byte is zero. */
    static long firstNonZero(MemorySegment segment) {
        for (long i = 0; i < segment.byteSize(); i += 8) {
            if (segment.byteSize() - i >= 8 ? segment.get(ValueLayout.JAVA_LONG_UNALIGNED, i) != 0
                    : segment.get(ValueLayout.JAVA_BYTE, i) != 0) {
                for (long j = i; j < Math.min(i + 8, segment.byteSize()); j++) {
                    if (segment.get(ValueLayout.JAVA_BYTE, j) != 0) {
                        return j;
                    }
                }
            }
        }
        return -1;
    }

    /** The pattern byte for a buffer offset. */
    static byte pattern(long offset, int seed) {
        return (byte) ((offset * 31 + (offset >>> 12) * 7 + seed) | 1);
    }

    /** Writes the pattern over the whole segment. */
    static void writePattern(MemorySegment segment, int seed) {
        for (long i = 0; i < segment.byteSize(); i++) {
            segment.set(ValueLayout.JAVA_BYTE, i, pattern(i, seed));
        }
    }

    // ---- the framework stand-ins

    /** The heap bundle's context: registerService only, forwarded to the core as its DS references would. */
    private BundleContext bundleContext() {
        return (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(),
                new Class<?>[] {BundleContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("registerService") && args.length == 3) {
                        return register(args[0], args[1], (Dictionary<?, ?>) args[2]);
                    }
                    return switch (method.getName()) {
                        case "toString" -> "BundleContext of dmabuf.heap";
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> throw new UnsupportedOperationException(method.toString());
                    };
                });
    }

    private ServiceRegistration<?> register(Object classes, Object service, Dictionary<?, ?> dict) {
        boolean exporter = classes == DmaBufExporter.class || DmaBufExporter.class.getName().equals(classes);
        if (!exporter || !(service instanceof DmaBufExporter)) {
            throw new UnsupportedOperationException("only DmaBufExporter services are expected, not " + classes);
        }
        long id = nextServiceId.getAndIncrement();
        Map<String, Object> props = toMap(dict);
        services.put(id, props);
        core.drivers().add(DriverTracker.Kind.EXPORTER, id, HEAP_BUNDLE, props);
        boolean[] gone = {false};
        return (ServiceRegistration<?>) Proxy.newProxyInstance(ServiceRegistration.class.getClassLoader(),
                new Class<?>[] {ServiceRegistration.class}, (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "setProperties" -> {
                            synchronized (gone) {
                                if (gone[0]) {
                                    throw new IllegalStateException("service " + id + " is unregistered");
                                }
                                Map<String, Object> updated = toMap((Dictionary<?, ?>) args[0]);
                                services.put(id, updated);
                                core.drivers().modified(DriverTracker.Kind.EXPORTER, id, HEAP_BUNDLE, updated);
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
                            core.drivers().remove(DriverTracker.Kind.EXPORTER, id);
                            return null;
                        }
                        case "toString" -> {
                            return "ServiceRegistration " + id;
                        }
                        case "hashCode" -> {
                            return (int) id;
                        }
                        case "equals" -> {
                            return proxy == args[0];
                        }
                        default -> throw new UnsupportedOperationException(method.toString());
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

    /** A core or engine log that keeps every message. */
    static final class Recorder implements CoreLog, MemoryLog {
        final List<String> infos = new CopyOnWriteArrayList<>();
        final List<String> warnings = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();

        @Override
        public void info(String message) {
            infos.add(message);
        }

        @Override
        public void warn(String message) {
            warnings.add(message);
        }

        @Override
        public void error(String message, Throwable cause) {
            errors.add(message);
        }

        @Override
        public void debug(String message) {
        }
    }

    /** An OSGi {@link Logger} that formats and keeps every message by level. */
    static final class RecordingLogger {
        final List<String> infos = new CopyOnWriteArrayList<>();
        final List<String> warnings = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();
        final List<String> debugs = new CopyOnWriteArrayList<>();
        private final Logger logger = (Logger) Proxy.newProxyInstance(Logger.class.getClassLoader(),
                new Class<?>[] {Logger.class}, (proxy, method, args) -> handle(proxy, method, args));

        /** The logger to hand to a component. */
        Logger logger() {
            return logger;
        }

        private Object handle(Object proxy, Method method, Object[] args) {
            String name = method.getName();
            if (method.getReturnType() == boolean.class && name.startsWith("is")) {
                return true;
            }
            List<String> target = switch (name) {
                case "info", "audit" -> infos;
                case "warn" -> warnings;
                case "error" -> errors;
                case "debug", "trace" -> debugs;
                case "getName" -> null;
                case "toString" -> null;
                case "hashCode" -> null;
                case "equals" -> null;
                default -> throw new UnsupportedOperationException(method.toString());
            };
            if (target == null) {
                return switch (name) {
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "test logger";
                };
            }
            if (args != null && args.length > 0 && args[0] instanceof String format) {
                List<Object> params = new ArrayList<>();
                for (int i = 1; i < args.length; i++) {
                    if (args[i] instanceof Object[] varargs && method.isVarArgs() && i == args.length - 1) {
                        params.addAll(java.util.Arrays.asList(varargs));
                    } else {
                        params.add(args[i]);
                    }
                }
                target.add(format(format, params));
            }
            return null;
        }

        private static String format(String format, List<Object> params) {
            StringBuilder sb = new StringBuilder();
            int from = 0;
            int p = 0;
            while (true) {
                int at = format.indexOf("{}", from);
                if (at < 0 || p >= params.size()) {
                    sb.append(format.substring(from));
                    break;
                }
                sb.append(format, from, at).append(params.get(p++));
                from = at + 2;
            }
            return sb.toString();
        }

        /** The messages at any level that contain the text. */
        List<String> containing(String text) {
            List<String> out = new ArrayList<>();
            for (List<String> level : List.of(infos, warnings, errors, debugs)) {
                level.stream().filter(m -> m.contains(text)).forEach(out::add);
            }
            return out;
        }
    }
}
