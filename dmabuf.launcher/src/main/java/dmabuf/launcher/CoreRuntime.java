package dmabuf.launcher;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Reads the dma-buf core's counters from its {@code dmabuf.api.runtime.DmaBufRuntime} service. The API classes are in
 * the dmabuf.api bundle, not on the launcher's class path (exporting them from the system bundle would shadow that
 * bundle), so the service is found by its class name and the DTO's public fields are read by reflection.
 */
final class CoreRuntime {
    private static final String RUNTIME = "dmabuf.api.runtime.DmaBufRuntime";

    /**
     * The counters of {@code RuntimeDTO}.
     *
     * @param liveBuffers buffers not yet released ({@code totalBuffers})
     * @param exported    buffers exported since the core started
     * @param released    buffers released since the core started
     * @param leaks       items the core reclaimed from bundles that went away holding them
     * @param peakBytes   the most bytes live at once
     * @param leakDetails one line per recent leak report
     */
    record Snapshot(long liveBuffers, long exported, long released, long leaks, long peakBytes,
            List<String> leakDetails) {
    }

    private CoreRuntime() {
    }

    static Snapshot read(BundleContext context) throws ReflectiveOperationException {
        ServiceReference<?> ref = context.getServiceReference(RUNTIME);
        if (ref == null) {
            throw new IllegalStateException("the dma-buf core registered no " + RUNTIME + " service");
        }
        Object runtime = context.getService(ref);
        try {
            Class<?> type = ref.getBundle().loadClass(RUNTIME);
            Object dto = type.getMethod("getRuntimeDTO").invoke(runtime);
            List<String> details = new ArrayList<>();
            Object leaks = dto.getClass().getField("leaks").get(dto);
            for (int i = 0; leaks != null && i < Array.getLength(leaks); i++) {
                Object leak = Array.get(leaks, i);
                details.add(field(leak, "kind") + " held by " + field(leak, "bundleSymbolicName") + " on buffer "
                        + field(leak, "bufferId") + " (exporter " + field(leak, "exporterName") + "): "
                        + field(leak, "detail"));
            }
            return new Snapshot(number(dto, "totalBuffers"), number(dto, "exportedBuffers"),
                    number(dto, "releasedBuffers"), number(dto, "leaksReported"), number(dto, "peakBytes"),
                    List.copyOf(details));
        } finally {
            context.ungetService(ref);
        }
    }

    private static long number(Object dto, String name) throws ReflectiveOperationException {
        return dto.getClass().getField(name).getLong(dto);
    }

    private static Object field(Object dto, String name) throws ReflectiveOperationException {
        return dto.getClass().getField(name).get(dto);
    }
}
