package dmabuf.bench;

import java.util.List;
import java.util.Map;

/**
 * One row of issue 7's table: a measured benchmark, its anchor from the same run, how the two make a ratio, and the
 * target. Ratios are "lower is better" ({@link Kind#AT_MOST}, {@link Kind#DELTA}, {@link Kind#NS_PER_UNIT}) except
 * bandwidth ({@link Kind#AT_LEAST}: anchor time / measured time, i.e. the share of the raw bandwidth kept).
 *
 * @param id       a stable name (ratios file, smoke test)
 * @param title    what is measured, for the report
 * @param measured the benchmark key(s); for {@link Kind#DELTA} "off" then "on"
 * @param anchor   the anchor key(s); for {@link Kind#DELTA} "off" then "on"
 * @param anchorTitle what the anchor is, for the report
 * @param kind     how the ratio is formed and judged
 * @param target   the target: the ratio bound, or ns per unit for {@link Kind#NS_PER_UNIT}
 * @param units    for {@link Kind#NS_PER_UNIT}: how many units (pages) one op covers
 * @param hotPath  true when the measured op must allocate 0 B/op on the heap
 * @param why      what explains a missed target (analysis of the code path), shown only when missed
 */
record Scenario(String id, String title, List<String> measured, List<String> anchor, String anchorTitle, Kind kind,
        double target, int units, boolean hotPath, String why) {

    /** How the ratio is formed. */
    enum Kind {
        /** measured / anchor &lt;= target. */
        AT_MOST,
        /** anchor / measured &gt;= target (bandwidth kept). */
        AT_LEAST,
        /** (measured on - off) / (anchor on - off) &lt;= target; the anchor delta floored at 10 % of its off figure. */
        DELTA,
        /** measured / units &lt;= target ns (judged in full runs); the ratio measured / anchor is reported too. */
        NS_PER_UNIT,
        /** CPU time per frame (aux counters cpuNanos / cpuFrames), measured / anchor &lt;= target. */
        CPU_PER_FRAME
    }

    /** The ratio, or NaN when a figure is missing. */
    double ratio(Map<String, Measurement> m) {
        for (String k : measured) {
            if (!m.containsKey(k)) {
                return Double.NaN;
            }
        }
        for (String k : anchor) {
            if (!m.containsKey(k)) {
                return Double.NaN;
            }
        }
        return switch (kind) {
            case AT_MOST, NS_PER_UNIT -> ns(m, measured.get(0)) / ns(m, anchor.get(0));
            case CPU_PER_FRAME -> cpuPerFrame(m, measured.get(0)) / cpuPerFrame(m, anchor.get(0));
            case AT_LEAST -> ns(m, anchor.get(0)) / ns(m, measured.get(0));
            case DELTA -> {
                double mine = Math.max(0, ns(m, measured.get(1)) - ns(m, measured.get(0)));
                double off = ns(m, anchor.get(0));
                double theirs = Math.max(0.1 * off, ns(m, anchor.get(1)) - off);
                yield mine / theirs;
            }
        };
    }

    /** The figure the target is judged on: the ratio, or ns per unit. */
    double judged(Map<String, Measurement> m) {
        if (kind == Kind.NS_PER_UNIT) {
            return m.containsKey(measured.get(0)) ? ns(m, measured.get(0)) / units : Double.NaN;
        }
        return ratio(m);
    }

    /** True when the target is met. */
    boolean met(Map<String, Measurement> m) {
        double v = judged(m);
        return kind == Kind.AT_LEAST ? v >= target : v <= target;
    }

    /** The target as a ratio bound in this run (for {@link Kind#NS_PER_UNIT}: target x units / anchor). */
    double targetRatio(Map<String, Measurement> m) {
        if (kind == Kind.NS_PER_UNIT) {
            return target * units / ns(m, anchor.get(0));
        }
        return target;
    }

    /** "<= 1.5x", ">= 0.95x", "<= 10 ns/page". */
    String targetText() {
        return switch (kind) {
            case AT_MOST, DELTA, CPU_PER_FRAME -> "<= " + Report.num(target) + "x";
            case AT_LEAST -> ">= " + Report.num(target) + "x";
            case NS_PER_UNIT -> "<= " + Report.num(target) + " ns/page";
        };
    }

    /** CPU nanoseconds per frame of a pipeline benchmark. */
    static double cpuPerFrame(Map<String, Measurement> m, String key) {
        return m.get(key).perOp("cpuNanos", "cpuFrames");
    }

    private static double ns(Map<String, Measurement> m, String key) {
        return m.get(key).medianNs();
    }
}
