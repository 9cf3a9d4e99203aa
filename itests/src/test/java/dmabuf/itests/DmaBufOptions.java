package dmabuf.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.composite;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;
import static org.ops4j.pax.exam.CoreOptions.workingDirectory;

import java.io.File;

import org.ops4j.pax.exam.Constants;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.options.UrlProvisionOption;

/**
 * The one place that says what runs in the test framework. Every test class gets its options from here (through
 * {@link DmaBufTestSupport#configuration()}), so a runtime bundle is added or changed once, for all tests.
 *
 * <p>All bundles are plain {@code file:} jars in {@code target/bundles}, put there by maven-dependency-plugin in
 * the {@code pre-integration-test} phase (see {@code itests/pom.xml}, which holds the versions). The reactor's
 * bundles are the jars built in the same Maven run, never SNAPSHOTs from the local repository. Only Pax Exam's own
 * helper bundles and {@link org.ops4j.pax.exam.CoreOptions#junitBundles()} are {@code mvn:} links; failsafe runs
 * pax-url offline against the local repository, so nothing is downloaded while the tests run.
 */
public final class DmaBufOptions {

    /** Symbolic names of the reactor's bundles (= folder name = artifactId, see the root bnd.bnd). */
    public static final String API_BSN = "dmabuf.api";
    public static final String CORE_BSN = "dmabuf.core";
    /** The OS bindings, the physical memory service and the driver bundles built on them. */
    public static final String[] DRIVER_BSNS = {"dmabuf.os", "dmabuf.memory", "dmabuf.heap", "dmabuf.exporter.scanout",
        "dmabuf.exporter.v4l2", "dmabuf.exporter.gpu", "dmabuf.importer.gpu", "dmabuf.importer.display",
        "dmabuf.importer.encoder", "dmabuf.pipeline", "dmabuf.heap.memfd"};

    /** Level of SCR's own log messages: {@code -Ddmabuf.itest.loglevel=debug} on the Maven command line. */
    public static final String LOG_LEVEL = System.getProperty("dmabuf.itest.loglevel", "warn");

    private DmaBufOptions() {
    }

    /** Where the copied bundles are: set by failsafe, {@code target/bundles} when run from the module folder. */
    static File bundlesDir() {
        return new File(System.getProperty("dmabuf.itest.bundles", "target/bundles")).getAbsoluteFile();
    }

    /** Scratch space of the tests (Pax Exam's probes, the Felix bundle cache): always under target/. */
    static File workDir() {
        return new File(System.getProperty("dmabuf.itest.work", "target/paxexam")).getAbsoluteFile();
    }

    /** A jar from target/bundles by its version-less file name (stripVersion), e.g. {@code org.apache.felix.scr}. */
    static UrlProvisionOption bundleJar(String name) {
        File jar = new File(bundlesDir(), name + ".jar");
        if (!jar.isFile()) {
            throw new IllegalStateException("Missing bundle " + jar + ". The integration tests take their bundles"
                + " from target/bundles, which maven-dependency-plugin fills in the pre-integration-test phase:"
                + " run them with 'mvn verify' from the reactor root.");
        }
        return bundle(jar.toURI().toString());
    }

    /**
     * The runtime the dmabuf bundles need: the OSGi Log Service (the core gets a {@code Logger} from SCR through
     * {@code LoggerFactory}), Declarative Services with the API bundles Felix SCR does not embed, ConfigAdmin and
     * MetaType. The log bundle starts first (start level 2, with Pax Exam's helpers) so that it records everything
     * the other bundles log while they start.
     */
    public static Option runtimeBundles() {
        return composite(
            // Log Service 1.5 implementation: exports org.osgi.service.log 1.5, registers LoggerFactory,
            // LogReaderService and LoggerAdmin. Needs no pushstream (Felix Log 1.3.0 imports only framework
            // packages and its own).
            bundleJar("org.apache.felix.log").startLevel(Constants.START_LEVEL_SYSTEM_BUNDLES),
            // Declarative Services: Felix SCR imports the DS API and the promise/function packages but does not
            // contain them.
            bundleJar("org.osgi.util.function"),
            bundleJar("org.osgi.util.promise"),
            bundleJar("org.osgi.service.component"),
            bundleJar("org.apache.felix.scr"),
            bundleJar("org.apache.felix.configadmin"),
            bundleJar("org.apache.felix.metatype"));
    }

    /** The bundles under test, as built by this reactor. */
    public static Option reactorBundles() {
        return composite(
            bundleJar(API_BSN),
            bundleJar(CORE_BSN),
            composite(java.util.Arrays.stream(DRIVER_BSNS).map(DmaBufOptions::bundleJar).toArray(Option[]::new)));
    }

    /**
     * Framework and system properties. {@code name} separates the bundle caches of test classes that run one after
     * another in the same JVM (one framework per class with PerClass).
     */
    public static Option frameworkSettings(String name) {
        File work = workDir();
        return composite(
            // Pax Exam's probes and temporary files under target/ (not java.io.tmpdir) ...
            workingDirectory(new File(work, "exam").getPath()),
            // ... and Felix's bundle cache too (not ./felix-cache), fresh for every framework.
            frameworkProperty(org.osgi.framework.Constants.FRAMEWORK_STORAGE)
                .value(new File(work, "felix-cache/" + name).getPath()),
            frameworkProperty(org.osgi.framework.Constants.FRAMEWORK_STORAGE_CLEAN)
                .value(org.osgi.framework.Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT),
            // Felix framework's own messages: errors only (1).
            frameworkProperty("felix.log.level").value("1"),
            // SCR's log level (read as a framework/system property).
            systemProperty("ds.loglevel").value(LOG_LEVEL),
            // SCR updates the service.changecount property of ServiceComponentRuntime this soon after a component
            // changes state (default 5 s); DmaBufTestSupport waits for component states on that signal.
            frameworkProperty("ds.service.changecount.timeout").value("100"),
            // The Log Service keeps this many entries for LogReaderService.getLog() (default 100): the tests read
            // that history to see errors logged before their LogListener was registered.
            frameworkProperty("org.apache.felix.log.maxSize").value("10000"));
    }

    /**
     * SLF4J for Pax Exam's helper bundles, which import org.slf4j. Replaces Pax Exam's default pax-logging-api
     * (switched off in exam.properties), which would bring a second org.osgi.service.log export. slf4j-simple
     * provides the org.slf4j.impl binding slf4j-api imports and logs to stderr at the level of
     * {@code org.slf4j.simpleLogger.defaultLogLevel}.
     */
    public static Option examLogging() {
        return composite(
            bundleJar("slf4j-api").startLevel(Constants.START_LEVEL_SYSTEM_BUNDLES),
            bundleJar("slf4j-simple").startLevel(Constants.START_LEVEL_SYSTEM_BUNDLES));
    }

    /** Everything a dmabuf test framework consists of. */
    public static Option[] all(String name) {
        return new Option[] {
            frameworkSettings(name),
            examLogging(),
            junitBundles(),
            runtimeBundles(),
            reactorBundles(),
        };
    }
}
