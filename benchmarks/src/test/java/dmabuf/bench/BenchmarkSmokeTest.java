package dmabuf.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;

/**
 * The benchmarks' smoke mode, run by {@code ./test}: every benchmark runs once briefly in this JVM (JMH, no fork,
 * 5 x 100 ms warm-up, 5 x 40 ms measured, the median taken) and every scenario's ratio to its anchor, both
 * measured just now, is checked with 5x slack against the target and against the last full run
 * ({@code results/ratios.properties}): a 10x regression fails, noise does not. No absolute time is judged.
 */
class BenchmarkSmokeTest {
    /** How far a smoke ratio may stray from the target or the last full run. */
    static final double SLACK = 5;

    @Test
    void everyScenarioRunsAndKeepsItsRatioWithinSlack() throws Exception {
        Path results = Path.of(System.getProperty("bench.results", "results"));
        Properties last = BenchMain.load(results.resolve("ratios.properties"));
        Map<String, Measurement> m = BenchMain.run(BenchMain.quick(".*"), Path.of("target/smoke"), "smoke");

        List<String> failures = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        for (Scenario s : Scenarios.all()) {
            double r = s.ratio(m);
            if (Double.isNaN(r)) {
                failures.add(s.id() + ": not measured (benchmark " + s.measured() + " or anchor " + s.anchor()
                        + " missing from the run)");
                continue;
            }
            double target = s.targetRatio(m);
            String previous = last.getProperty(s.id());
            double lastRatio = previous == null ? Double.NaN : Double.parseDouble(previous);
            double bound;
            boolean ok;
            if (s.kind() == Scenario.Kind.AT_LEAST) {
                bound = (Double.isNaN(lastRatio) ? target : Math.min(target, lastRatio)) / SLACK;
                ok = r >= bound;
            } else {
                bound = (Double.isNaN(lastRatio) ? target : Math.max(target, lastRatio)) * SLACK;
                ok = r <= bound;
            }
            String line = String.format(java.util.Locale.ROOT,
                    "%-14s ratio %-10s %s %-10s (target %s, last full run %s)",
                    s.id(), Report.num(r), s.kind() == Scenario.Kind.AT_LEAST ? ">=" : "<=", Report.num(bound),
                    Report.num(target), previous == null ? "none" : Report.num(lastRatio));
            lines.add(line);
            if (!ok) {
                failures.add(line);
            }
        }
        lines.forEach(System.out::println);
        assertTrue(failures.isEmpty(), () -> "ratios out of their 5x slack:\n" + String.join("\n", failures));
    }
}
