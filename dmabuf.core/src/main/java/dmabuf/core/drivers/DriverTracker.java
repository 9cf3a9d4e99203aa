package dmabuf.core.drivers;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufImporter;
import dmabuf.api.runtime.ExporterDTO;
import dmabuf.api.runtime.FailedDriverDTO;
import dmabuf.api.runtime.ImporterDTO;
import dmabuf.core.DmaBufCore;
import dmabuf.core.buffer.Buffer;

/**
 * The driver whiteboard: exporter and importer services as they come and go. Each registration is validated (a
 * name that is a non-blank String, unique among drivers of its kind; well-typed device and capabilities); a rejected
 * one is listed with its reason and promoted if the conflict goes away. When an exporter service goes away, every
 * buffer exported under it is revoked; a change of its properties (a configuration change) revokes nothing.
 */
public final class DriverTracker {

    /** The two kinds of driver services. */
    public enum Kind {
        /** A {@link DmaBufExporter}. */
        EXPORTER("exporter", DmaBufExporter.NAME, DmaBufExporter.DEVICE, DmaBufExporter.CAPABILITIES),
        /** A {@link DmaBufImporter}. */
        IMPORTER("importer", DmaBufImporter.NAME, DmaBufImporter.DEVICE, DmaBufImporter.CAPABILITIES);

        final String label;
        final String nameKey;
        final String deviceKey;
        final String capabilitiesKey;

        Kind(String label, String nameKey, String deviceKey, String capabilitiesKey) {
            this.label = label;
            this.nameKey = nameKey;
            this.deviceKey = deviceKey;
            this.capabilitiesKey = capabilitiesKey;
        }
    }

    private record Registration(Kind kind, long serviceId, long bundleId, Map<String, ?> properties) {
    }

    private record Accepted(Registration registration, String name, String device, String[] capabilities) {
    }

    private final DmaBufCore core;
    /** Every registration, by service id (registration order). */
    private final Map<Long, Registration> registrations = new TreeMap<>();
    private final Map<Long, Accepted> accepted = new TreeMap<>();
    private final Map<Long, FailedDriverDTO> failed = new TreeMap<>();

    /** @param core the core */
    public DriverTracker(DmaBufCore core) {
        this.core = core;
    }

    /** A driver service appeared. */
    public void add(Kind kind, long serviceId, long bundleId, Map<String, ?> properties) {
        synchronized (this) {
            registrations.put(serviceId, new Registration(kind, serviceId, bundleId, Map.copyOf(properties)));
            evaluate();
        }
        core.changed();
    }

    /** A driver service's properties changed: re-validated, nothing revoked. */
    public void modified(Kind kind, long serviceId, long bundleId, Map<String, ?> properties) {
        add(kind, serviceId, bundleId, properties);
    }

    /** A driver service went away: an exporter's buffers are revoked. */
    public void remove(Kind kind, long serviceId) {
        Registration gone;
        synchronized (this) {
            gone = registrations.remove(serviceId);
            evaluate();
        }
        if (gone != null && kind == Kind.EXPORTER) {
            for (Buffer b : List.copyOf(core.buffers().all())) {
                if (b.exporterServiceId() == serviceId) {
                    core.lifecycle().revoke(b, "exporter service " + serviceId + " ('" + b.exporterName()
                            + "') was unregistered");
                }
            }
        }
        core.changed();
    }

    /** The service id of an accepted exporter service of the bundle with that name, or -1. */
    public synchronized long exporterServiceOf(long bundleId, String name) {
        for (Accepted a : accepted.values()) {
            if (a.registration().kind() == Kind.EXPORTER && a.registration().bundleId() == bundleId
                    && a.name().equals(name)) {
                return a.registration().serviceId();
            }
        }
        return -1;
    }

    private void evaluate() {
        accepted.clear();
        failed.clear();
        Map<Kind, Set<String>> names = Map.of(Kind.EXPORTER, new HashSet<>(), Kind.IMPORTER, new HashSet<>());
        for (Registration r : registrations.values()) {
            Kind k = r.kind();
            Object name = r.properties().get(k.nameKey);
            if (!(name instanceof String n) || n.isBlank()) {
                reject(r, name, FailedDriverDTO.FAILURE_REASON_INVALID_NAME, "service property " + k.nameKey
                        + " must be a non-blank String, not " + describe(name));
                continue;
            }
            Object device = r.properties().get(k.deviceKey);
            if (device != null && !(device instanceof String)) {
                reject(r, n, FailedDriverDTO.FAILURE_REASON_INVALID_PROPERTY, "service property " + k.deviceKey
                        + " must be a String, not " + describe(device));
                continue;
            }
            String[] capabilities = strings(r.properties().get(k.capabilitiesKey));
            if (capabilities == null) {
                reject(r, n, FailedDriverDTO.FAILURE_REASON_INVALID_PROPERTY, "service property "
                        + k.capabilitiesKey + " must be a String, String[] or a collection of Strings, not "
                        + describe(r.properties().get(k.capabilitiesKey)));
                continue;
            }
            if (!names.get(k).add(n)) {
                reject(r, n, FailedDriverDTO.FAILURE_REASON_DUPLICATE_NAME, "another " + k.label + " named '" + n
                        + "' registered first; give each " + k.label + " a unique " + k.nameKey);
                continue;
            }
            accepted.put(r.serviceId(), new Accepted(r, n, (String) device, capabilities));
        }
    }

    private void reject(Registration r, Object name, int reason, String message) {
        FailedDriverDTO dto = new FailedDriverDTO();
        dto.kind = r.kind().label;
        dto.name = name instanceof String s ? s : null;
        dto.serviceId = r.serviceId();
        dto.bundleId = r.bundleId();
        dto.failureReason = reason;
        dto.failureMessage = message;
        failed.put(r.serviceId(), dto);
    }

    private static String[] strings(Object value) {
        if (value == null) {
            return new String[0];
        }
        if (value instanceof String s) {
            return new String[] {s};
        }
        if (value instanceof String[] a) {
            return a.clone();
        }
        if (value instanceof Collection<?> c) {
            List<String> out = new ArrayList<>();
            for (Object o : c) {
                if (!(o instanceof String s)) {
                    return null;
                }
                out.add(s);
            }
            return out.toArray(new String[0]);
        }
        return null;
    }

    private static String describe(Object value) {
        return value == null ? "missing" : value.getClass().getSimpleName() + " '" + value + "'";
    }

    /** The accepted exporters, with their live buffers and bytes. */
    public synchronized List<ExporterDTO> exporters(Collection<Buffer> buffers) {
        List<ExporterDTO> out = new ArrayList<>();
        for (Accepted a : accepted.values()) {
            if (a.registration().kind() != Kind.EXPORTER) {
                continue;
            }
            ExporterDTO dto = new ExporterDTO();
            dto.name = a.name();
            dto.device = a.device();
            dto.capabilities = a.capabilities().clone();
            dto.serviceId = a.registration().serviceId();
            dto.bundleId = a.registration().bundleId();
            for (Buffer b : buffers) {
                if (b.exporterServiceId() == dto.serviceId && b.state() == Buffer.State.LIVE) {
                    dto.buffers++;
                    dto.bytes += b.size();
                }
            }
            out.add(dto);
        }
        return out;
    }

    /** The accepted importers. */
    public synchronized List<ImporterDTO> importers() {
        List<ImporterDTO> out = new ArrayList<>();
        for (Accepted a : accepted.values()) {
            if (a.registration().kind() != Kind.IMPORTER) {
                continue;
            }
            ImporterDTO dto = new ImporterDTO();
            dto.name = a.name();
            dto.device = a.device();
            dto.capabilities = a.capabilities().clone();
            dto.serviceId = a.registration().serviceId();
            dto.bundleId = a.registration().bundleId();
            out.add(dto);
        }
        return out;
    }

    /** The rejected driver services. */
    public synchronized List<FailedDriverDTO> failed() {
        return List.copyOf(failed.values());
    }
}
