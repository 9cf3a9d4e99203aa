package dmabuf.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The run command: starts an embedded Apache Felix with the bundles this jar carries, streams the example exporter's
 * frames into the example CRC-32 importer, reports, and stops.
 * <p>
 * Sequence: Log Service first (so nothing logged later is missed: a listener prints WARN and ERROR entries), then
 * Declarative Services, ConfigAdmin and MetaType, then dmabuf.api and dmabuf.core. With {@code --frames N} the
 * configuration of PID {@code dmabuf.exporter.example} is created through ConfigAdmin now, before the example bundles
 * start, so the exporter's first activation already has it. Then the importer (and its DmaBufSink service is awaited),
 * then the exporter, whose stream is followed through the status services ({@link StreamWatch}). At the end the
 * example bundles are stopped, which is the core's leak checkpoint, and its runtime DTO says what is still live and
 * what leaked ({@link CoreRuntime}). Exit code 0 when every frame arrived and nothing is live or leaked, 1 otherwise,
 * 2 for a usage error.
 */
public final class Main {
    /** The runtime bundles, in start order: the same set and versions as the integration tests. */
    static final List<String> RUNTIME_BUNDLES = List.of(
            "org.apache.felix.log",
            "org.osgi.util.function",
            "org.osgi.util.promise",
            "org.osgi.service.component",
            "org.apache.felix.scr",
            "org.apache.felix.configadmin",
            "org.apache.felix.metatype");
    static final List<String> CORE_BUNDLES = List.of("dmabuf.api", "dmabuf.core");
    static final String IMPORTER = "dmabuf.importer.example";
    static final String EXPORTER = "dmabuf.exporter.example";
    static final String EXPORTER_PID = "dmabuf.exporter.example";

    /** Bounds of the waits that are not the stream itself. */
    static final long SERVICE_WAIT_MS = 10_000;
    static final long STOP_WAIT_MS = 10_000;

    private final Options options;
    private final Console console;
    private Framework framework;
    private Path storage;
    private boolean shutDown;

    Main(Options options, Console console) {
        this.options = options;
        this.console = console;
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(Console.PREFIX + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        if (options.help()) {
            System.out.println(Options.USAGE);
            return;
        }
        int status = 1;
        try {
            status = new Main(options, new Console(System.out, System.err)).run();
        } catch (Throwable unexpected) {
            System.err.println(Console.PREFIX + "FAILED: unexpected " + describe(unexpected));
        } finally {
            // Always exit explicitly: Felix and the Log Service run non-daemon threads, so a main thread that just
            // returned (or died) would leave the JVM running.
            System.exit(status);
        }
    }

    /** Runs everything; returns the exit status. */
    int run() {
        try {
            storage = Files.createTempDirectory("dmabuf-felix-");
        } catch (IOException e) {
            console.problem("FAILED: cannot create the framework storage in " + System.getProperty("java.io.tmpdir")
                    + ": " + e.getMessage());
            return 1;
        }
        // Ctrl-C (and any other exit) stops the framework and deletes its storage.
        Runtime.getRuntime().addShutdownHook(new Thread(this::shutdown, "dmabuf-launcher-shutdown"));
        try {
            return runFramework();
        } catch (Failure f) {
            console.problem("FAILED: " + f.getMessage());
            return 1;
        } catch (InterruptedException e) {
            console.problem("FAILED: interrupted");
            return 1;
        } catch (RuntimeException | LinkageError e) {
            // A bug, or the jar was replaced while running (a rebuild): say what and where, in one line.
            console.problem("FAILED: unexpected " + describe(e));
            return 1;
        } finally {
            if (!options.keepRunning()) {
                shutdown();
            }
        }
    }

    private int runFramework() throws InterruptedException {
        long t0 = System.nanoTime();
        framework = newFramework();
        try {
            framework.init();
            framework.start();
        } catch (BundleException e) {
            throw new Failure("the framework did not start: " + e.getMessage());
        }
        BundleContext context = framework.getBundleContext();
        console.info("Apache Felix " + framework.getVersion() + " on Java " + Runtime.version() + ", storage "
                + storage + " (deleted at exit)");

        Map<String, Bundle> bundles = installAll(context);
        start(bundles.get(RUNTIME_BUNDLES.get(0)));
        StreamWatch[] watchRef = new StreamWatch[1];
        LogForwarder log;
        try {
            log = LogForwarder.attach(context, console, options.verbose(), () -> {
                if (watchRef[0] != null) {
                    watchRef[0].abort("a bundle logged an error (see above)");
                }
            });
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new Failure("cannot listen to the Log Service: " + e);
        }
        for (String name : RUNTIME_BUNDLES.subList(1, RUNTIME_BUNDLES.size())) {
            start(bundles.get(name));
        }
        for (String name : CORE_BUNDLES) {
            start(bundles.get(name));
        }
        if (options.frames().isPresent()) {
            configureFrames(context, bundles.get(EXPORTER), options.frames().getAsInt());
        }

        try (StreamWatch watch = new StreamWatch(context, console)) {
            watchRef[0] = watch;
            start(bundles.get(IMPORTER));
            awaitService(context, "(&(objectClass=dmabuf.api.DmaBufSink)(dmabuf.importer.name=crc32))",
                    "the importer's DmaBufSink service");
            console.info((bundles.size() - 1) + " bundles active after " + millis(System.nanoTime() - t0)
                    + " ms; starting " + EXPORTER);
            start(bundles.get(EXPORTER));

            if (!watch.awaitEnd(options.timeoutSeconds())) {
                throw new Failure("the stream did not end within " + options.timeoutSeconds() + " s: the exporter"
                        + " produced " + StreamWatch.number(watch.producer(), "frames.produced") + " of "
                        + StreamWatch.number(watch.producer(), "frames.total") + " frame(s) (--timeout SECONDS to"
                        + " wait longer)");
            }
            if (watch.abortReason() != null) {
                throw new Failure(watch.abortReason());
            }
            Map<String, Object> producer = watch.producer();
            Map<String, Object> sink = watch.sink();
            String state = String.valueOf(producer.get("state"));
            if (!state.equals("done")) {
                throw new Failure("the exporter's stream ended " + state
                        + (producer.containsKey("failure") ? ": " + producer.get("failure") : ""));
            }
            long produced = StreamWatch.number(producer, "frames.produced");
            long elapsed = watch.elapsedNanos();
            console.info("exporter done: " + produced + " frame(s) of " + producer.get("frame.size") + " in "
                    + millis(elapsed) + " ms" + (elapsed > 0 && produced > 0
                            ? String.format(" (%.0f frames/s)", produced * 1e9 / elapsed) : ""));

            if (options.keepRunning()) {
                CoreRuntime.Snapshot now = snapshot(context);
                report(producer, sink, now, log);
                console.info("--keep-running: the framework keeps running; press Ctrl-C to stop it");
                framework.waitForStop(0);
                return 0;
            }

            // The core's leak checkpoint: a stopping bundle ungets its registry and the core reclaims (and reports)
            // whatever it still held.
            stop(bundles.get(EXPORTER));
            stop(bundles.get(IMPORTER));
            CoreRuntime.Snapshot after = snapshot(context);
            int status = report(producer, sink, after, log);
            stopFramework();
            console.info(status == 0 ? "framework stopped; OK" : "framework stopped; FAILED (see above)");
            return status;
        }
    }

    /** Prints the report; returns the exit status it implies. */
    private int report(Map<String, Object> producer, Map<String, Object> sink, CoreRuntime.Snapshot core,
            LogForwarder log) {
        long total = StreamWatch.number(producer, "frames.total");
        long produced = StreamWatch.number(producer, "frames.produced");
        long consumed = StreamWatch.number(sink, "frames");
        long sinkErrors = StreamWatch.number(producer, "sink.errors");
        long lastCrc = StreamWatch.number(sink, "last.crc32");
        console.info(String.format("report: frames=%d last-crc32=%s live-buffers=%d leaks-reported=%d"
                + " (consumed=%d, bytes=%d, exported=%d, released=%d, peak=%d bytes, sink-errors=%d)",
                produced, lastCrc < 0 ? "none" : String.format("0x%08x", lastCrc), core.liveBuffers(), core.leaks(),
                consumed, StreamWatch.number(sink, "bytes"), core.exported(), core.released(), core.peakBytes(),
                sinkErrors));
        core.leakDetails().forEach(d -> console.problem("leak: " + d));
        int status = 0;
        if (produced != total || consumed != produced) {
            console.problem("the importer received " + consumed + " of " + produced + " produced frame(s) ("
                    + total + " configured)");
            status = 1;
        }
        if (sinkErrors > 0) {
            console.problem(sinkErrors + " sink call(s) failed");
            status = 1;
        }
        if (!options.keepRunning() && core.liveBuffers() != 0) {
            console.problem(core.liveBuffers() + " buffer(s) still live after the example bundles stopped");
            status = 1;
        }
        if (core.leaks() != 0) {
            console.problem("the core reported " + core.leaks() + " leak(s)");
            status = 1;
        }
        if (log.errors() > 0) {
            console.problem(log.errors() + " error(s) were logged");
            status = 1;
        }
        return status;
    }

    private Framework newFramework() {
        Map<String, String> config = new HashMap<>();
        config.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        config.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // Felix's own messages: errors only (the default, stated here because it is what keeps a normal run quiet).
        config.put("felix.log.level", "1");
        // SCR logs through the Log Service from WARN up; the LogForwarder prints those.
        config.put("ds.loglevel", "warn");
        // The Log Service's root level (Log Service 1.4: WARN unless set): with --verbose the components' INFO
        // entries (one per frame from the importer) are recorded too.
        config.put("org.osgi.service.log.admin.loglevel", options.verbose() ? "INFO" : "WARN");
        for (FrameworkFactory factory : ServiceLoader.load(FrameworkFactory.class, Main.class.getClassLoader())) {
            return factory.newFramework(config);
        }
        throw new Failure("no OSGi framework in this jar (META-INF/services/" + FrameworkFactory.class.getName()
                + " is missing)");
    }

    /** Installs every bundle the jar carries (bundles/NAME.jar), in start order. */
    private static Map<String, Bundle> installAll(BundleContext context) {
        Map<String, Bundle> installed = new LinkedHashMap<>();
        List<String> names = Stream.of(RUNTIME_BUNDLES, CORE_BUNDLES, List.of(IMPORTER, EXPORTER))
                .flatMap(List::stream).toList();
        for (String name : names) {
            String resource = "/bundles/" + name + ".jar";
            try (InputStream in = Main.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new Failure("the jar lacks " + resource.substring(1) + ": rebuild it with ./run or"
                            + " `mvn -B -ntp package` from the reactor root");
                }
                installed.put(name, context.installBundle("dmabuf-launcher:" + resource.substring(1), in));
            } catch (IOException e) {
                throw new Failure("cannot read " + resource + ": " + e.getMessage());
            } catch (BundleException e) {
                throw new Failure("cannot install " + name + ": " + e.getMessage());
            }
        }
        return installed;
    }

    private static void start(Bundle bundle) {
        try {
            bundle.start();
        } catch (BundleException e) {
            throw new Failure("bundle " + bundle.getSymbolicName() + " did not start: " + e.getMessage());
        }
    }

    private static void stop(Bundle bundle) {
        try {
            bundle.stop();
        } catch (BundleException e) {
            throw new Failure("bundle " + bundle.getSymbolicName() + " did not stop: " + e.getMessage());
        }
    }

    /**
     * Creates the configuration of PID {@value #EXPORTER_PID} with {@code frames}, bound to the exporter bundle.
     * ConfigAdmin's API is in its bundle (the launcher's class path has only the framework), so the calls go through
     * its public interfaces by reflection.
     */
    private void configureFrames(BundleContext context, Bundle exporter, int frames) throws InterruptedException {
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(context,
                "org.osgi.service.cm.ConfigurationAdmin", null);
        tracker.open();
        try {
            Object configAdmin = tracker.waitForService(SERVICE_WAIT_MS);
            ServiceReference<Object> ref = tracker.getServiceReference();
            if (configAdmin == null || ref == null) {
                throw new Failure("ConfigurationAdmin did not appear within " + SERVICE_WAIT_MS + " ms");
            }
            Bundle cm = ref.getBundle();
            Class<?> adminType = cm.loadClass("org.osgi.service.cm.ConfigurationAdmin");
            Class<?> configurationType = cm.loadClass("org.osgi.service.cm.Configuration");
            Object configuration = adminType.getMethod("getConfiguration", String.class, String.class)
                    .invoke(configAdmin, EXPORTER_PID, exporter.getLocation());
            Dictionary<String, Object> properties = new Hashtable<>();
            properties.put("frames", frames);
            configurationType.getMethod("update", Dictionary.class).invoke(configuration, properties);
            console.info("configured " + EXPORTER_PID + ": frames=" + frames);
        } catch (InvocationTargetException e) {
            throw new Failure("ConfigurationAdmin refused the configuration of " + EXPORTER_PID + ": "
                    + e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new Failure("cannot use ConfigurationAdmin: " + e);
        } finally {
            tracker.close();
        }
    }

    private static void awaitService(BundleContext context, String filter, String what)
            throws InterruptedException {
        ServiceTracker<Object, Object> tracker;
        try {
            tracker = new ServiceTracker<>(context, context.createFilter(filter), null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(e);
        }
        tracker.open();
        try {
            if (tracker.waitForService(SERVICE_WAIT_MS) == null) {
                throw new Failure(what + " did not appear within " + SERVICE_WAIT_MS + " ms");
            }
        } finally {
            tracker.close();
        }
    }

    private static CoreRuntime.Snapshot snapshot(BundleContext context) {
        try {
            return CoreRuntime.read(context);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new Failure("cannot read the core's runtime DTO: " + e);
        }
    }

    private void stopFramework() throws InterruptedException {
        try {
            framework.stop();
        } catch (BundleException e) {
            throw new Failure("the framework did not stop: " + e.getMessage());
        }
        FrameworkEvent event = framework.waitForStop(STOP_WAIT_MS);
        if (event.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
            throw new Failure("the framework did not stop within " + STOP_WAIT_MS + " ms");
        }
    }

    /** Stops the framework (bounded) if it runs, and deletes its storage. Idempotent; also the shutdown hook. */
    private synchronized void shutdown() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        Framework fw = framework;
        if (fw != null && (fw.getState() & (Bundle.STARTING | Bundle.ACTIVE | Bundle.STOPPING)) != 0) {
            console.info("stopping the framework");
            try {
                fw.stop();
                if (fw.waitForStop(STOP_WAIT_MS).getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                    console.problem("the framework did not stop within " + STOP_WAIT_MS + " ms");
                }
            } catch (BundleException | InterruptedException | RuntimeException | LinkageError e) {
                console.problem("stopping the framework: " + describe(e));
            }
        }
        if (storage != null) {
            deleteTree(storage);
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            System.err.println(Console.PREFIX + "could not delete " + root + ": " + e.getMessage());
        }
    }

    /** An unexpected throwable in one line: its type, message and where it came from (no stack trace). */
    static String describe(Throwable t) {
        StackTraceElement[] trace = t.getStackTrace();
        return t + (trace.length > 0 ? " at " + trace[0] : "")
                + (t.getCause() != null && t.getCause() != t ? ", caused by " + t.getCause() : "");
    }

    private static long millis(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** A reason to give up, with a message for the user. */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message, null, false, false);
        }
    }
}
