package dmabuf.demo;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.log.LogReaderService;
import org.osgi.util.tracker.ServiceTracker;

import dmabuf.api.DmaBufException;
import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.pipeline.api.Pipeline;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * The demo, run by bnd's launcher on its main thread (a {@code Callable<Integer>} service with {@code main.thread=true};
 * what it returns is the process's exit status): waits for the pipeline, streams the frames with progress lines,
 * reports, then stops the drivers, which is the core's leak checkpoint, and reads the core's leak report.
 * <p>
 * It depends only on what starts before the drivers (the launcher's arguments, the Log Service, SCR), so the
 * launcher always gets its main thread back; everything else is waited for with a bound.
 */
@Component(service = Callable.class, property = "main.thread=true")
public final class Demo implements Callable<Integer> {
    static final Duration PROGRESS_EVERY = Duration.ofMillis(500);
    /** The property bnd's launcher puts the command line in, on its launcher service. */
    static final String LAUNCHER_ARGUMENTS = "launcher.arguments";
    /** The start level of the Gogo shell (cnf/dmabuf-launcher.bndrun): reached only with --shell. */
    static final int SHELL_START_LEVEL = 4;

    private final BundleContext context;
    private final List<String> args;
    private final LogReaderService logReader;
    private final DriverDiagnosis diagnosis;
    private final ConfigurationAdmin configAdmin;
    private final Console console = new Console(System.out, System.err);
    private final CountDownLatch deactivated = new CountDownLatch(1);
    private volatile LogPrinter log;

    @Activate
    public Demo(BundleContext context,
            @Reference(name = "launcher", service = Object.class, target = "(" + LAUNCHER_ARGUMENTS
                    + "=*)") Map<String, Object> launcher,
            @Reference(name = "logReader") LogReaderService logReader,
            @Reference(name = "scr") ServiceComponentRuntime scr,
            @Reference(name = "configAdmin") ConfigurationAdmin configAdmin) {
        this.context = context;
        this.args = launcher.get(LAUNCHER_ARGUMENTS) instanceof String[] a ? List.of(a) : List.of();
        this.logReader = logReader;
        this.diagnosis = new DriverDiagnosis(scr);
        this.configAdmin = configAdmin;
    }

    @Deactivate
    void deactivate() {
        deactivated.countDown();
        if (log != null) {
            logReader.removeLogListener(log);
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        Options options;
        try {
            options = Options.parse(args.toArray(String[]::new));
        } catch (IllegalArgumentException e) {
            console.problem(e.getMessage());
            console.problem(Options.USAGE);
            return 2;
        }
        if (options.help()) {
            System.out.println(Options.USAGE);
            return 0;
        }
        log = new LogPrinter(console, options.verbose());
        logReader.addLogListener(log);
        int status;
        try {
            status = run(options);
        } catch (Failure f) {
            console.problem("FAILED: " + f.getMessage());
            status = 1;
        } catch (RuntimeException e) {
            // A bug: say what and where in one line, no stack trace on the console.
            StackTraceElement[] at = e.getStackTrace();
            console.problem("FAILED: unexpected " + e + (at.length > 0 ? " at " + at[0] : ""));
            status = 1;
        }
        // --shell keeps the framework up after a failure too: that is when a person wants to look inside.
        return options.shell() ? shell(status) : status;
    }

    private int run(Options options) throws InterruptedException {
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.timeoutSeconds());
        console.info("Apache Felix " + context.getBundle(0).getVersion() + " on Java " + Runtime.version()
                + "; waiting for the pipeline");

        // The tracker holds the pipeline for the whole demo: it is a delayed component, which DS disposes of as
        // soon as nobody uses it, and a disposed instance has no devices bound any more.
        ServiceTracker<Pipeline, Pipeline> tracker = new ServiceTracker<>(context, Pipeline.class, null);
        tracker.open();
        try {
            return demo(awaitPipeline(tracker, deadline, options), deadline, jvmStart, options);
        } finally {
            tracker.close();
        }
    }

    private int demo(Pipeline pipeline, long deadline, long jvmStart, Options options) throws InterruptedException {
        long ready = System.currentTimeMillis();
        console.info(active() + " bundles active; pipeline ready " + (ready - jvmStart) + " ms after JVM start");

        try {
            pipeline.start(options.frames());
        } catch (DmaBufException e) {
            // Say why a device is missing too, when DS knows (e.g. the camera refused its configured format).
            List<String> failures = diagnosis.failures();
            throw new Failure("the pipeline did not start: " + e.getMessage()
                    + (failures.isEmpty() ? "" : "; " + String.join("; ", failures)));
        }
        PipelineStatusDTO status = pipeline.status();
        console.info("streaming " + options.frames() + " frame(s) " + status.width + "x" + status.height + " "
                + status.format + ": " + stages(status));
        status = stream(pipeline, deadline, jvmStart, options);
        Report.run(status).forEach(console::info);
        PipelineStatusDTO last = status;
        pipeline.stop();

        List<String> problems = new ArrayList<>();
        if (!PipelineStatusDTO.COMPLETED.equals(last.state)) {
            problems.add("the pipeline " + last.state + (last.failure == null ? "" : ": " + last.failure));
        }
        if (last.bytesCopied != 0) {
            problems.add(last.bytesCopied + " bytes were copied on the frame path");
        }
        if (options.shell()) {
            problems.forEach(p -> console.problem("problem: " + p));
            return problems.isEmpty() ? 0 : 1;
        }

        stopDrivers();
        RuntimeDTO core = coreRuntime(deadline).getRuntimeDTO();
        Report.leaks(core.leaks, core.totalBuffers).forEach(console::info);
        if (core.leaks != null && core.leaks.length > 0) {
            problems.add("the core reported " + core.leaks.length + " leak(s)");
        }
        if (core.totalBuffers != 0) {
            problems.add(core.totalBuffers + " buffer(s) still live after the drivers stopped");
        }
        if (log.errors() > 0) {
            problems.add(log.errors() + " error(s) were logged");
        }
        if (!problems.isEmpty()) {
            throw new Failure(String.join("; ", problems));
        }
        console.info("OK");
        return 0;
    }

    /**
     * Waits for the Pipeline service and for every bundle's start level to be reached (the pipeline can be there
     * before the devices it will ask for by name); gives up early, with DS's reason, when a driver failed to activate.
     */
    private Pipeline awaitPipeline(ServiceTracker<Pipeline, Pipeline> tracker, long deadline, Options options)
            throws InterruptedException {
        while (true) {
            Pipeline pipeline = tracker.waitForService(100);
            List<String> unsettled = unsettled();
            if (pipeline != null && allStarted() && unsettled.isEmpty()) {
                return pipeline;
            }
            List<String> failures = diagnosis.failures();
            if (!failures.isEmpty()) {
                throw new Failure("the pipeline cannot run: " + String.join("; ", failures));
            }
            if (System.nanoTime() > deadline) {
                List<String> waiting = diagnosis.waiting();
                throw new Failure("no pipeline within " + options.timeoutSeconds() + " s (--timeout): "
                        + (!waiting.isEmpty() ? String.join("; ", waiting) : pipeline == null
                                ? "no bundle registers a " + Pipeline.class.getName() + " service"
                                : !unsettled.isEmpty() ? "configurations not taken up by their components: "
                                        + String.join(", ", unsettled)
                                : "the framework did not reach its start level"));
            }
        }
    }

    /** Streams with a progress line every {@link #PROGRESS_EVERY}; returns the run's final status. */
    private PipelineStatusDTO stream(Pipeline pipeline, long deadline, long jvmStart, Options options)
            throws InterruptedException {
        boolean firstFrame = false;
        long lastProgress = System.nanoTime();
        long lastPrinted = -1;
        while (true) {
            // Short waits until the first frame, so its time is measured to within a few ms.
            PipelineStatusDTO s = pipeline.awaitCompletion(firstFrame ? PROGRESS_EVERY : Duration.ofMillis(5));
            if (!firstFrame && s.framesDone > 0) {
                firstFrame = true;
                console.info("first frame " + (System.currentTimeMillis() - jvmStart) + " ms after JVM start");
            }
            if (!PipelineStatusDTO.RUNNING.equals(s.state)) {
                if (s.framesDone != lastPrinted) {
                    console.info(Report.progress(s));
                }
                return s;
            }
            if (System.nanoTime() - lastProgress >= PROGRESS_EVERY.toNanos()) {
                lastProgress = System.nanoTime();
                lastPrinted = s.framesDone;
                console.info(Report.progress(s));
            }
            if (System.nanoTime() > deadline) {
                PipelineStatusDTO stopped = pipeline.stop();
                Report.run(stopped).forEach(console::info);
                throw new Failure("the demo did not finish within " + options.timeoutSeconds() + " s (--timeout): "
                        + stopped.framesDone + " of " + stopped.framesRequested + " frames done");
            }
        }
    }

    /** --shell: the framework keeps running until the shell ends it (`exit 0`, Ctrl-D, `stop 0`). */
    private int shell(int status) throws InterruptedException {
        console.info("--shell: the framework keeps running; try dmabuf:list, dmabuf:stats, dmabuf:pipeline status;"
                + " `exit 0` or Ctrl-D stops it");
        context.getBundle(0).adapt(FrameworkStartLevel.class).setStartLevel(SHELL_START_LEVEL);
        // Waiting for a person has no natural bound; each wait is bounded and the loop ends with the framework.
        while (!deactivated.await(1, TimeUnit.MINUTES)) {
            // still running
        }
        return status;
    }

    /**
     * Stops the pipeline and the drivers (pipeline, importers, exporters, heaps, memory, in that order): a stopping
     * bundle gives back its registry and the core reclaims, and reports, whatever it still held.
     */
    private void stopDrivers() {
        List<Bundle> drivers = new ArrayList<>(Arrays.stream(context.getBundles())
                .filter(b -> rank(b.getSymbolicName()) >= 0).toList());
        drivers.sort(Comparator.comparingInt((Bundle b) -> rank(b.getSymbolicName()))
                .thenComparing(Comparator.comparingLong(Bundle::getBundleId).reversed()));
        for (Bundle b : drivers) {
            try {
                b.stop();
            } catch (BundleException | IllegalStateException e) {
                throw new Failure("bundle " + b.getSymbolicName() + " did not stop: " + e.getMessage());
            }
        }
    }

    /** Stop order of a driver bundle, or -1 for bundles that stay (framework, runtime, core, shell, demo). */
    static int rank(String symbolicName) {
        if (symbolicName == null || !symbolicName.startsWith("dmabuf.")) {
            return -1;
        }
        if (symbolicName.startsWith("dmabuf.pipeline")) {
            return 0;
        }
        if (symbolicName.startsWith("dmabuf.importer.")) {
            return 1;
        }
        if (symbolicName.startsWith("dmabuf.exporter.")) {
            return 2;
        }
        if (symbolicName.startsWith("dmabuf.heap")) {
            return 3;
        }
        if (symbolicName.equals("dmabuf.memory")) {
            return 4;
        }
        return -1;
    }

    private DmaBufRuntime coreRuntime(long deadline) throws InterruptedException {
        ServiceTracker<DmaBufRuntime, DmaBufRuntime> tracker = new ServiceTracker<>(context, DmaBufRuntime.class,
                null);
        tracker.open();
        try {
            DmaBufRuntime runtime = tracker.waitForService(
                    Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (runtime == null) {
                throw new Failure("the dma-buf core's DmaBufRuntime service is gone: no leak report");
            }
            return runtime;
        } finally {
            tracker.close();
        }
    }

    private List<String> unsettled() {
        try {
            return diagnosis.unsettled(configAdmin.listConfigurations(null));
        } catch (IOException | InvalidSyntaxException e) {
            throw new Failure("cannot list the configurations: " + e.getMessage());
        }
    }

    /** Whether the framework has reached the start level of every dmabuf bundle (so all of them were started). */
    private boolean allStarted() {
        int highest = Arrays.stream(context.getBundles()).filter(b -> String.valueOf(b.getSymbolicName())
                .startsWith("dmabuf.")).mapToInt(b -> b.adapt(BundleStartLevel.class).getStartLevel()).max()
                .orElse(1);
        return context.getBundle(0).adapt(FrameworkStartLevel.class).getStartLevel() >= highest;
    }

    private long active() {
        return Arrays.stream(context.getBundles()).filter(b -> b.getState() == Bundle.ACTIVE).count();
    }

    private static String stages(PipelineStatusDTO s) {
        if (s.stages == null || s.stages.length == 0) {
            return "(no stages reported)";
        }
        return String.join(" -> ", Arrays.stream(s.stages).map(st -> st.name + " " + st.device).toList());
    }

    /** A reason to give up, with a message for the user. */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message, null, false, false);
        }
    }
}
