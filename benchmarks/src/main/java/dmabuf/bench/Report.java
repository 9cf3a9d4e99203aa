package dmabuf.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import javax.imageio.ImageIO;

/**
 * Turns a JMH result file and the run's facts into RESULTS.md, the ratio chart (PNG) and the ratios file the smoke
 * test compares against.
 */
final class Report {
    private Report() {
    }

    /** Writes RESULTS.md into {@code markdown}, the chart and ratios.properties into {@code dir}. */
    static void write(Map<String, Measurement> m, Properties run, Path markdown, Path dir) throws IOException {
        List<Scenario> scenarios = Scenarios.all();
        Files.createDirectories(dir);
        Properties ratios = new Properties();
        for (Scenario s : scenarios) {
            double r = s.ratio(m);
            if (!Double.isNaN(r)) {
                ratios.setProperty(s.id(), Double.toString(r));
            }
        }
        try (Writer w = Files.newBufferedWriter(dir.resolve("ratios.properties"), StandardCharsets.UTF_8)) {
            ratios.store(w, "each scenario's ratio to its anchor in the last full run (./bench), for the smoke test");
        }
        chart(scenarios, m, dir.resolve("ratios.png"));
        Files.writeString(markdown, markdown(scenarios, m, run, markdown.getParent().relativize(dir)),
                StandardCharsets.UTF_8);
    }

    static String markdown(List<Scenario> scenarios, Map<String, Measurement> m, Properties run, Path dir) {
        StringBuilder sb = new StringBuilder();
        sb.append("# Benchmark results\n\n");
        sb.append("Written by `./bench` (`./bench --report` rewrites it from `").append(dir.resolve("jmh-result.json"))
                .append("`). Every scenario is a ratio against an anchor measured **in the same JMH run**; the ")
                .append("figures are medians of the measured iterations of all forks, \"±\" is JMH's 99.9 % ")
                .append("confidence half-width of the mean. Scenarios and targets: issue 7; anchors: ")
                .append("`shared/notes/performance.md`.\n\n");
        sb.append("## Run\n\n| | |\n|---|---|\n");
        for (String k : List.of("date", "machine", "cpus", "memory", "kernel", "jdk", "jvm.flags", "jmh",
                "netty", "duration", "load.before", "load.during", "load.after", "noisy")) {
            if (run.getProperty(k) != null) {
                sb.append("| ").append(k).append(" | ").append(run.getProperty(k)).append(" |\n");
            }
        }
        sb.append('\n');
        sb.append("## Scenarios\n\n");
        sb.append(table(scenarios, m));
        sb.append("\n![ratios against targets](").append(dir.resolve("ratios.png")).append(")\n\n");
        sb.append("## Missed targets and why\n\n");
        boolean any = false;
        for (Scenario s : scenarios) {
            double v = s.judged(m);
            if (!Double.isNaN(v) && !s.met(m)) {
                any = true;
                sb.append("- **").append(s.id()).append("** (").append(s.title()).append("): ")
                        .append(fmt(s, v)).append(" against ").append(s.targetText()).append(". ")
                        .append(s.why().isEmpty() ? "No analysis recorded yet." : s.why()).append('\n');
            }
        }
        if (!any) {
            sb.append("None.\n");
        }
        sb.append("\n## Heap allocation on the hot paths (`-prof gc`, gc.alloc.rate.norm)\n\n");
        sb.append("| scenario | benchmark | B/op |\n|---|---|---|\n");
        for (Scenario s : scenarios) {
            if (s.hotPath() && m.containsKey(s.measured().get(0))) {
                double a = m.get(s.measured().get(0)).allocBytes();
                sb.append("| ").append(s.id()).append(" | `").append(s.measured().get(0)).append("` | ")
                        .append(Double.isNaN(a) ? "n/a" : num(a)).append(a < 1 ? " (0)" : " **not 0**")
                        .append(" |\n");
            }
        }
        sb.append("\n## Every benchmark\n\n| benchmark | median | ± | samples | B/op |\n|---|---|---|---|---|\n");
        for (Measurement x : new TreeMap<>(m).values()) {
            sb.append("| `").append(x.key()).append("` | ").append(time(x.medianNs())).append(" | ")
                    .append(time(x.errorNs())).append(" | ").append(x.samples()).append(" | ")
                    .append(Double.isNaN(x.allocBytes()) ? "n/a" : num(x.allocBytes())).append(" |\n");
        }
        return sb.toString();
    }

    /** The scenario table (also what README's "Benchmarks" section shows). */
    static String table(List<Scenario> scenarios, Map<String, Measurement> m) {
        StringBuilder sb = new StringBuilder();
        sb.append("| scenario | measured | anchor (same run) | ratio | target | met |\n|---|---|---|---|---|---|\n");
        for (Scenario s : scenarios) {
            Measurement x = m.get(s.measured().get(s.kind() == Scenario.Kind.DELTA ? 1 : 0));
            Measurement a = m.get(s.anchor().get(s.kind() == Scenario.Kind.DELTA ? 1 : 0));
            double v = s.judged(m);
            sb.append("| ").append(s.title()).append(" | ");
            if (s.kind() == Scenario.Kind.CPU_PER_FRAME) {
                sb.append(x == null ? "not run" : pipeline(x)).append(" | ").append(s.anchorTitle()).append(": ")
                        .append(a == null ? "not run" : pipeline(a)).append(" | ")
                        .append(Double.isNaN(v) ? "-" : fmt(s, v)).append(" | ").append(s.targetText())
                        .append(" | ").append(Double.isNaN(v) ? "not run" : s.met(m) ? "met" : "**missed**")
                        .append(" |\n");
                continue;
            }
            sb.append(x == null ? "not run" : time(x.medianNs()) + " ± " + time(x.errorNs()));
            if (s.kind() == Scenario.Kind.DELTA && x != null) {
                sb.append(" (off ").append(time(m.get(s.measured().get(0)).medianNs())).append(')');
            }
            sb.append(" | ").append(s.anchorTitle()).append(": ");
            sb.append(a == null ? "not run" : time(a.medianNs()) + " ± " + time(a.errorNs()));
            if (s.kind() == Scenario.Kind.DELTA && a != null) {
                sb.append(" (off ").append(time(m.get(s.anchor().get(0)).medianNs())).append(')');
            }
            sb.append(" | ").append(Double.isNaN(v) ? "-" : fmt(s, v));
            if (s.kind() == Scenario.Kind.NS_PER_UNIT && !Double.isNaN(s.ratio(m))) {
                sb.append(" (").append(num(s.ratio(m))).append("x the anchor)");
            }
            sb.append(" | ").append(s.targetText()).append(" | ")
                    .append(Double.isNaN(v) ? "not run" : s.met(m) ? "met" : "**missed**").append(" |\n");
        }
        return sb.toString();
    }

    /** CPU per frame, wall time per frame and frames/s, hand-off latency p50/p99. */
    static String pipeline(Measurement x) {
        return "CPU " + time(x.perOp("cpuNanos", "cpuFrames")) + "/frame; wall " + time(x.medianNs()) + "/frame ("
                + num(1e9 / x.medianNs()) + " frames/s); hand-off latency p50 "
                + time(x.secondary().getOrDefault("latencyP50Ns", Double.NaN)) + ", p99 "
                + time(x.secondary().getOrDefault("latencyP99Ns", Double.NaN));
    }

    static String fmt(Scenario s, double v) {
        return s.kind() == Scenario.Kind.NS_PER_UNIT ? num(v) + " ns/page" : num(v) + "x";
    }

    /** A number with 3 significant digits. */
    static String num(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        double a = Math.abs(v);
        if (a == 0) {
            return "0";
        }
        if (a >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 0.001) {
            return String.format(Locale.ROOT, "%.3g", v);
        }
        return String.format(Locale.ROOT, "%.2e", v);
    }

    /** ns, µs or ms. */
    static String time(double ns) {
        if (Double.isNaN(ns)) {
            return "n/a";
        }
        if (ns >= 1e6) {
            return num(ns / 1e6) + " ms";
        }
        if (ns >= 1e4) {
            return num(ns / 1e3) + " µs";
        }
        return num(ns) + " ns";
    }

    /** One row per scenario: the ratio as a bar on a log scale, the target as a black tick; green met, red missed. */
    static void chart(List<Scenario> scenarios, Map<String, Measurement> m, Path png) throws IOException {
        int rowH = 22;
        int left = 250;
        int plotW = 600;
        int top = 40;
        int h = top + rowH * scenarios.size() + 40;
        int w = left + plotW + 30;
        double minExp = -4;
        double maxExp = 3;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.drawString("ratio to anchor (log scale); black tick = target; green met, red missed", 10, 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            for (int e = (int) minExp; e <= maxExp; e++) {
                int x = left + (int) ((e - minExp) / (maxExp - minExp) * plotW);
                g.setColor(new Color(225, 225, 225));
                g.drawLine(x, top - 5, x, h - 35);
                g.setColor(Color.DARK_GRAY);
                g.drawString(e >= 0 ? String.valueOf((long) Math.pow(10, e)) : "1e" + e, x - 10, h - 20);
            }
            int y = top;
            for (Scenario s : scenarios) {
                double r = s.ratio(m);
                g.setColor(Color.BLACK);
                g.drawString(s.id(), 10, y + 14);
                if (!Double.isNaN(r) && r > 0) {
                    int x = left + (int) ((clamp(Math.log10(r), minExp, maxExp) - minExp) / (maxExp - minExp) * plotW);
                    g.setColor(s.met(m) ? new Color(60, 160, 60) : new Color(200, 50, 50));
                    g.fillRect(left, y + 4, Math.max(1, x - left), rowH - 8);
                    double t = s.targetRatio(m);
                    int tx = left + (int) ((clamp(Math.log10(t), minExp, maxExp) - minExp) / (maxExp - minExp)
                            * plotW);
                    g.setColor(Color.BLACK);
                    g.setStroke(new BasicStroke(3));
                    g.drawLine(tx, y + 1, tx, y + rowH - 1);
                    g.setStroke(new BasicStroke(1));
                    g.drawString(num(r), Math.min(x + 4, left + plotW - 30), y + 14);
                } else if (r == 0) {
                    g.setColor(s.met(m) ? new Color(60, 160, 60) : new Color(200, 50, 50));
                    g.drawString("0 (nothing measurable)", left + 4, y + 14);
                } else {
                    g.setColor(Color.GRAY);
                    g.drawString("not run", left + 4, y + 14);
                }
                y += rowH;
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", png.toFile());
    }

    private static double clamp(double v, double lo, double hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
