package dmabuf.bench;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code ./bench}: runs every benchmark in one JMH run and writes the report.
 * <ul>
 * <li>no argument: the full run (2 forks, 3 x 1 s warm-up, 5 x 1 s measured, {@code -prof gc}), results into
 * {@code results/} (the JMH JSON, the run's facts, the ratios the smoke test reads, the chart) and
 * {@code RESULTS.md};</li>
 * <li>{@code --report}: rewrites RESULTS.md, the chart and the ratios from the last full run's JSON;</li>
 * <li>{@code --only REGEX}: the full settings on the benchmarks matching REGEX, written under
 * {@code target/subset/} (development; the committed results stay as they are);</li>
 * <li>{@code --quick}: the smoke settings on everything, written under {@code target/quick/};</li>
 * <li>{@code --dev REGEX}: 1 fork, 2 x 1 s warm-up and measured, {@code -prof gc}, under {@code target/dev/}.</li>
 * </ul>
 * {@code --dir PATH} names the benchmarks module (default: the working directory).
 */
public final class BenchMain {
    /** The flags of every fork: FFM downcalls, Netty's direct buffers on JDK 25, a fixed heap. */
    static final List<String> FORK_FLAGS = List.of("-Xms2g", "-Xmx2g", "--enable-native-access=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
            "-Dio.netty.leakDetection.level=DISABLED");

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(".");
        String only = null;
        String mode = "full";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--only" -> {
                    only = args[++i];
                    mode = "subset";
                }
                case "--report" -> mode = "report";
                case "--quick" -> mode = "quick";
                case "--dev" -> {
                    only = args[++i];
                    mode = "dev";
                }
                default -> {
                    System.err.println("usage: ./bench [--report | --only REGEX | --dev REGEX | --quick]");
                    System.exit(2);
                }
            }
        }
        Path results = dir.resolve("results");
        switch (mode) {
            case "report" -> {
                Map<String, Measurement> m = Measurement.read(Files.readString(results.resolve("jmh-result.json")));
                Report.write(m, load(results.resolve("run.properties")), dir.resolve("RESULTS.md"), results);
                System.out.println("wrote " + dir.resolve("RESULTS.md"));
            }
            case "quick" -> {
                Path out = dir.resolve("target/quick");
                Map<String, Measurement> m = run(quick(".*"), out, "quick");
                Report.write(m, load(out.resolve("run.properties")), out.resolve("RESULTS.md"), out);
                System.out.println("wrote " + out.resolve("RESULTS.md"));
            }
            case "dev" -> {
                Path out = dir.resolve("target/dev");
                Map<String, Measurement> m = run(dev(only), out, "dev " + only);
                Report.write(m, load(out.resolve("run.properties")), out.resolve("RESULTS.md"), out);
                System.out.println("wrote " + out.resolve("RESULTS.md"));
            }
            case "subset" -> {
                Path out = dir.resolve("target/subset");
                Map<String, Measurement> m = run(full(only), out, "subset " + only);
                Report.write(m, load(out.resolve("run.properties")), out.resolve("RESULTS.md"), out);
                System.out.println("wrote " + out.resolve("RESULTS.md"));
            }
            default -> {
                Map<String, Measurement> m = run(full(".*"), results, "full");
                Report.write(m, load(results.resolve("run.properties")), dir.resolve("RESULTS.md"), results);
                System.out.println("wrote " + dir.resolve("RESULTS.md"));
            }
        }
    }

    /** The full settings. */
    static ChainedOptionsBuilder full(String include) {
        return new OptionsBuilder().include("dmabuf\\.bench\\." + include).forks(2).warmupIterations(3)
                .warmupTime(TimeValue.seconds(1)).measurementIterations(5).measurementTime(TimeValue.seconds(1))
                .addProfiler(GCProfiler.class).jvmArgs(FORK_FLAGS.toArray(String[]::new)).shouldFailOnError(true);
    }

    /** Development: 1 fork, 2 x 1 s warm-up and measured, {@code -prof gc}. */
    static ChainedOptionsBuilder dev(String include) {
        return full(include).forks(1).warmupIterations(2).measurementIterations(2);
    }

    /**
     * The smoke settings: in this JVM (no fork), 5 x 100 ms warm-up (enough for the JIT to compile the hot loops) and
     * 5 x 40 ms measured, whose median shrugs off a couple of iterations stalled by other processes.
     */
    static ChainedOptionsBuilder quick(String include) {
        return new OptionsBuilder().include("dmabuf\\.bench\\." + include).forks(0).warmupIterations(5)
                .warmupTime(TimeValue.milliseconds(100)).measurementIterations(5)
                .measurementTime(TimeValue.milliseconds(40)).shouldFailOnError(true);
    }

    /** Runs, writes {@code jmh-result.json} and {@code run.properties} into {@code out}, returns the figures. */
    static Map<String, Measurement> run(ChainedOptionsBuilder options, Path out, String what)
            throws IOException, RunnerException {
        Files.createDirectories(out);
        Path json = out.resolve("jmh-result.json");
        Properties run = machine();
        run.setProperty("jmh", String.join(" ", settings(options, what)));
        String before = loadAverage();
        List<Double> during = Collections.synchronizedList(new ArrayList<>());
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "load-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleAtFixedRate(() -> during.add(Double.parseDouble(loadAverage().split(" ")[0])), 10, 10,
                TimeUnit.SECONDS);
        Instant start = Instant.now();
        try {
            new Runner(options.resultFormat(ResultFormatType.JSON).result(json.toString()).build()).run();
        } finally {
            sampler.shutdownNow();
        }
        String after = loadAverage();
        run.setProperty("duration", Duration.between(start, Instant.now()).toSeconds() + " s");
        run.setProperty("load.before", before + " (1, 5, 15 min)");
        run.setProperty("load.after", after + " (1, 5, 15 min)");
        double max = during.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        double mean = during.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        run.setProperty("load.during", String.format(Locale.ROOT, "1-min load sampled every 10 s: mean %.2f, max %.2f "
                + "(%d samples)", mean, max, during.size()));
        int cpus = Runtime.getRuntime().availableProcessors();
        double first = Double.parseDouble(before.split(" ")[0]);
        boolean noisy = first > 1.0 || max > cpus + 1.0;
        run.setProperty("noisy", (noisy ? "**yes**" : "no") + ": noisy when the 1-min load exceeded 1.0 at the start "
                + "or " + (cpus + 1) + " (the cores plus one, the benchmark's own threads) during the run, i.e. other "
                + "processes competed for the " + cpus + " cores");
        try (Writer w = Files.newBufferedWriter(out.resolve("run.properties"), StandardCharsets.UTF_8)) {
            run.store(w, "the run's facts, for ./bench --report");
        }
        return Measurement.read(Files.readString(json));
    }

    private static List<String> settings(ChainedOptionsBuilder options, String what) {
        var o = options.build();
        List<String> s = new ArrayList<>();
        s.add(what + ":");
        s.add("forks " + o.getForkCount().orElse(-1) + ",");
        s.add("warm-up " + o.getWarmupIterations().orElse(-1) + " x " + o.getWarmupTime().orElse(null) + ",");
        s.add("measured " + o.getMeasurementIterations().orElse(-1) + " x " + o.getMeasurementTime().orElse(null)
                + ",");
        s.add("mode AverageTime,");
        s.add(o.getProfilers().isEmpty() ? "no profiler" : "-prof gc");
        return s;
    }

    static Properties machine() {
        Properties p = new Properties();
        p.setProperty("date", Instant.now().toString());
        p.setProperty("machine", cpuModel());
        p.setProperty("cpus", String.valueOf(Runtime.getRuntime().availableProcessors()));
        p.setProperty("memory", memTotal());
        p.setProperty("kernel", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        p.setProperty("jdk", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.runtime.version"));
        p.setProperty("jvm.flags", String.join(" ", FORK_FLAGS));
        p.setProperty("netty", io.netty.util.Version.identify().getOrDefault("netty-buffer",
                io.netty.util.Version.identify().values().iterator().next()).artifactVersion());
        return p;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException e) {
            // not Linux: say so below
        }
        return System.getProperty("os.arch");
    }

    private static String memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return String.format(Locale.ROOT, "%.1f GiB", kb / 1048576.0);
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return "unknown";
    }

    /** "1min 5min 15min" from /proc/loadavg, or "NaN NaN NaN" off Linux. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "NaN NaN NaN";
        }
    }

    static Properties load(Path file) throws IOException {
        Properties p = new Properties();
        if (Files.exists(file)) {
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            }
        }
        return p;
    }
}
