package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Version;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.component.runtime.dto.UnsatisfiedReferenceDTO;
import org.osgi.service.log.LoggerFactory;

/**
 * The framework came up: every bundle resolved and started, the dmabuf bundles are there, and the services the
 * dmabuf bundles rely on (DS, the Log Service) are available. Only reads state, so one framework serves all methods.
 */
public class FrameworkSmokeIT extends DmaBufTestSupport {

    @Test
    public void everyBundleIsActiveOrAResolvedFragment() {
        List<String> problems = new ArrayList<>();
        for (Bundle b : bundleContext.getBundles()) {
            boolean fragment = (b.adapt(BundleRevision.class).getTypes() & BundleRevision.TYPE_FRAGMENT) != 0;
            int wanted = fragment ? Bundle.RESOLVED : Bundle.ACTIVE;
            if (b.getState() != wanted) {
                problems.add(b.getSymbolicName() + " " + b.getVersion() + " (" + b.getLocation() + ") is "
                    + stateName(b.getState()) + ", expected " + stateName(wanted) + whyNotResolved(b));
            }
        }
        if (!problems.isEmpty()) {
            fail("Bundles not started:\n  " + String.join("\n  ", problems));
        }
    }

    @Test
    public void dmabufBundlesAreTheBuiltJarsAndActive() {
        for (String bsn : new String[] {DmaBufOptions.API_BSN, DmaBufOptions.CORE_BSN}) {
            Bundle b = bundle(bsn);
            assertEquals(bsn + " state", stateName(Bundle.ACTIVE), stateName(b.getState()));
            // The jar this reactor run built (target/bundles), not some SNAPSHOT from the local repository.
            String expected = DmaBufOptions.bundlesDir().toURI().resolve(bsn + ".jar").toString();
            assertEquals(bsn + " location", expected, b.getLocation());
        }
    }

    @Test
    public void declarativeServicesRuntimeIsPresent() {
        assertEquals(stateName(Bundle.ACTIVE), stateName(bundle("org.apache.felix.scr").getState()));
        assertNotNull(awaitService(ServiceComponentRuntime.class, null, TIMEOUT));
    }

    /**
     * The core gets an OSGi {@code Logger} from SCR, which needs a Log Service 1.4+ {@code LoggerFactory}. Who
     * exports the package differs: Felix Log on Felix; on Equinox the framework itself (it has its own Log Service,
     * and the resolver wires every importer, Felix Log included, to the system bundle's export).
     */
    @Test
    public void logServiceProvidesLoggerFactory() {
        assertNotNull(awaitService(LoggerFactory.class, null, TIMEOUT));
        BundleWiring wiring = bundle(DmaBufOptions.CORE_BSN).adapt(BundleWiring.class);
        Version wired = null;
        for (BundleWire w : wiring.getRequiredWires(PackageNamespace.PACKAGE_NAMESPACE)) {
            Map<String, Object> attributes = w.getCapability().getAttributes();
            if ("org.osgi.service.log".equals(attributes.get(PackageNamespace.PACKAGE_NAMESPACE))) {
                wired = (Version) attributes.get(PackageNamespace.CAPABILITY_VERSION_ATTRIBUTE);
            }
        }
        assertNotNull("dmabuf.core is not wired to org.osgi.service.log", wired);
        assertTrue("org.osgi.service.log " + wired + " < 1.5", wired.compareTo(new Version(1, 5, 0)) >= 0);
    }

    /**
     * No DS component of dmabuf.core failed or waits for a missing service. Passes with no components at all (the
     * core's state when this test was written) and covers every component the core gains later. A component whose
     * configuration policy is REQUIRE may wait for its configuration: that is its normal state without one.
     */
    @Test
    public void coreComponentsAreNotFailedOrUnsatisfied() {
        ServiceComponentRuntime scr = awaitService(ServiceComponentRuntime.class, null, TIMEOUT);
        Bundle core = bundle(DmaBufOptions.CORE_BSN);
        awaitComponents(() -> componentProblems(scr, core), TIMEOUT);
    }

    /**
     * The memory service and the drivers resolve against the API alone and their components come up (the heaps on
     * their default configuration; the device exporters wait for a factory configuration, which is their normal
     * state without one).
     */
    @Test
    public void driverBundlesResolveAndTheirComponentsAreHealthy() {
        ServiceComponentRuntime scr = awaitService(ServiceComponentRuntime.class, null, TIMEOUT);
        for (String bsn : DmaBufOptions.DRIVER_BSNS) {
            Bundle b = bundle(bsn);
            assertEquals(bsn + " state", stateName(Bundle.ACTIVE), stateName(b.getState()));
            awaitComponents(() -> componentProblems(scr, b), TIMEOUT);
        }
        assertNotNull(awaitService(dmabuf.api.memory.PhysicalMemory.class, null, TIMEOUT));
        dmabuf.api.DmaBufRegistry registry = awaitService(dmabuf.api.DmaBufRegistry.class, null, TIMEOUT);
        awaitCondition(dmabuf.api.runtime.DmaBufRuntime.class,
                () -> registry.heaps().containsAll(List.of("system", "reserved")), TIMEOUT,
                () -> "the system and reserved heaps registered with the core; heaps: " + registry.heaps());
    }

    private static List<String> componentProblems(ServiceComponentRuntime scr, Bundle bundle) {
        List<String> problems = new ArrayList<>();
        for (ComponentDescriptionDTO d : scr.getComponentDescriptionDTOs(bundle)) {
            if (!scr.isComponentEnabled(d)) {
                if (d.defaultEnabled) {
                    problems.add(d.name + ": enabled by default but disabled");
                }
                continue;
            }
            for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(d)) {
                switch (c.state) {
                    case ComponentConfigurationDTO.FAILED_ACTIVATION ->
                        problems.add(d.name + ": FAILED_ACTIVATION: " + c.failure);
                    case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> {
                        List<String> refs = new ArrayList<>();
                        for (UnsatisfiedReferenceDTO r : c.unsatisfiedReferences) {
                            refs.add(r.name + (r.target == null ? "" : " target " + r.target));
                        }
                        problems.add(d.name + ": UNSATISFIED_REFERENCE " + refs);
                    }
                    case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> {
                        if (!"require".equals(d.configurationPolicy)) {
                            problems.add(d.name + ": UNSATISFIED_CONFIGURATION");
                        }
                    }
                    default -> {
                        // SATISFIED or ACTIVE
                    }
                }
            }
        }
        return problems;
    }

    /** For a bundle that is not resolved: the framework's reason, from a resolve attempt through start. */
    private static String whyNotResolved(Bundle b) {
        if (b.getState() != Bundle.INSTALLED) {
            return "";
        }
        try {
            b.start(Bundle.START_TRANSIENT);
            return " (it started on a second attempt)";
        } catch (BundleException e) {
            return ": " + e.getMessage();
        }
    }

    private static String stateName(int state) {
        return switch (state) {
            case Bundle.UNINSTALLED -> "UNINSTALLED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "state " + state;
        };
    }
}
