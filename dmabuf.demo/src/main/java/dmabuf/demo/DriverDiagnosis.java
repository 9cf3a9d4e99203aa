package dmabuf.demo;

import java.util.ArrayList;
import java.util.List;

import org.osgi.service.cm.Configuration;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;

/**
 * Says why the pipeline is not there, from Declarative Services' own view of the dmabuf components: which failed to
 * activate (with the exception the driver threw, e.g. an impossible configured format), which wait for a service,
 * which wait for a configuration.
 */
final class DriverDiagnosis {
    private final ServiceComponentRuntime scr;

    DriverDiagnosis(ServiceComponentRuntime scr) {
        this.scr = scr;
    }

    /** Components of dmabuf bundles that failed to activate, one line each: the reason to give up at once. */
    List<String> failures() {
        List<String> lines = new ArrayList<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            if (!d.bundle.symbolicName.startsWith("dmabuf.")) {
                continue;
            }
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    lines.add(describe(d, c) + " failed to activate: " + firstLine(c.failure));
                }
            }
        }
        return lines;
    }

    /**
     * The configurations ConfigAdmin holds for dmabuf components that DS has not taken up yet (it hears of them on
     * ConfigAdmin's event thread, so a device configured before its bundle started appears a little later): the
     * pipeline looks its devices up by name when a run starts, so the demo waits until this is empty.
     */
    List<String> unsettled(Configuration[] configurations) {
        List<String> pids = new ArrayList<>();
        if (configurations == null) {
            return pids;
        }
        List<ComponentDescriptionDTO> descriptions = scr.getComponentDescriptionDTOs().stream()
                .filter(d -> d.bundle.symbolicName.startsWith("dmabuf.")).toList();
        for (Configuration configuration : configurations) {
            String target = configuration.getFactoryPid() != null ? configuration.getFactoryPid()
                    : configuration.getPid();
            for (ComponentDescriptionDTO d : descriptions) {
                if (!List.of(d.configurationPid).contains(target)) {
                    continue;
                }
                // Taken up: activated (an immediate component registers its services while it activates, so
                // SATISFIED is not enough for it), satisfied (a delayed one), or failed (failures() says why).
                boolean taken = scr.getComponentConfigurationDTOs(d).stream()
                        .filter(c -> configuration.getPid().equals(c.properties.get("service.pid")))
                        .anyMatch(c -> c.state == ComponentConfigurationDTO.ACTIVE
                                || c.state == ComponentConfigurationDTO.FAILED_ACTIVATION
                                || (!d.immediate && c.state == ComponentConfigurationDTO.SATISFIED));
                if (!taken) {
                    pids.add(configuration.getPid());
                }
            }
        }
        return pids;
    }

    /** Every dmabuf component that is not active or satisfied, and what it waits for. */
    List<String> waiting() {
        List<String> lines = new ArrayList<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs()) {
            if (!d.bundle.symbolicName.startsWith("dmabuf.") || !d.defaultEnabled) {
                continue;
            }
            ComponentConfigurationDTO[] configurations = scr.getComponentConfigurationDTOs(d).toArray(
                    ComponentConfigurationDTO[]::new);
            if (configurations.length == 0 && "require".equals(d.configurationPolicy)) {
                lines.add("component " + d.name + " waits for a configuration of PID "
                        + String.join(", ", d.configurationPid));
            }
            for (ComponentConfigurationDTO c : configurations) {
                if (c.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE) {
                    for (UnsatisfiedReferenceDTO r : c.unsatisfiedReferences) {
                        lines.add(describe(d, c) + " waits for a service " + r.name
                                + (r.target == null ? "" : " matching " + r.target));
                    }
                } else if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    lines.add(describe(d, c) + " failed to activate: " + firstLine(c.failure));
                }
            }
        }
        return lines;
    }

    private static String describe(ComponentDescriptionDTO d, ComponentConfigurationDTO c) {
        Object pid = c.properties.get("service.pid");
        return "component " + d.name + (pid == null ? "" : " (configuration " + pid + ")");
    }

    /** The exception's first line: the driver's message, without the stack trace SCR keeps. */
    private static String firstLine(String failure) {
        if (failure == null) {
            return "(no reason given)";
        }
        String first = failure.lines().findFirst().orElse(failure);
        int colon = first.indexOf(": ");
        // "java.lang.IllegalArgumentException: msg" -> "msg" only when the type adds nothing for a person
        return colon > 0 && first.substring(0, colon).matches("[\\w.$]+(Exception|Error)") ? first.substring(colon + 2)
                : first;
    }
}
