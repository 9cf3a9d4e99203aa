package dmabuf.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One benchmark's figures from a JMH result file: the median of its measured iterations (all forks) in ns/op, JMH's
 * 99.9 % confidence half-width, and the heap allocated per op ({@code -prof gc}, NaN without it).
 *
 * @param key        "Class.method[param=value,...]"
 * @param medianNs   the median of the iteration samples, ns/op
 * @param errorNs    JMH's score error (99.9 % half-width of the mean), ns/op
 * @param samples    how many iteration samples there were
 * @param allocBytes {@code gc.alloc.rate.norm}, bytes/op, or NaN
 * @param secondary  every secondary metric's score (profilers, aux counters), by name
 */
record Measurement(String key, double medianNs, double errorNs, int samples, double allocBytes,
        Map<String, Double> secondary) {

    /** Every benchmark of a JMH JSON result, by key. */
    @SuppressWarnings("unchecked")
    static Map<String, Measurement> read(String json) {
        Map<String, Measurement> out = new TreeMap<>();
        for (Object o : (List<Object>) MiniJson.parse(json)) {
            Map<String, Object> run = (Map<String, Object>) o;
            String key = key((String) run.get("benchmark"), (Map<String, Object>) run.get("params"));
            Map<String, Object> primary = (Map<String, Object>) run.get("primaryMetric");
            double toNs = toNanos((String) primary.get("scoreUnit"));
            List<Double> values = new ArrayList<>();
            for (Object fork : (List<Object>) primary.get("rawData")) {
                for (Object v : (List<Object>) fork) {
                    values.add(((Number) v).doubleValue() * toNs);
                }
            }
            double error = primary.get("scoreError") instanceof Number n ? n.doubleValue() * toNs : Double.NaN;
            Map<String, Double> scores = new TreeMap<>();
            Map<String, Object> secondary = (Map<String, Object>) run.get("secondaryMetrics");
            if (secondary != null) {
                secondary.forEach((name, metric) -> {
                    if (metric instanceof Map<?, ?> mm && mm.get("score") instanceof Number n) {
                        scores.put(name, n.doubleValue());
                    }
                });
            }
            double alloc = scores.getOrDefault("gc.alloc.rate.norm", Double.NaN);
            out.put(key, new Measurement(key, median(values), error, values.size(), alloc, scores));
        }
        return out;
    }

    /** A secondary metric per op: {@code name} divided by {@code per} (e.g. CPU nanoseconds per frame), or NaN. */
    double perOp(String name, String per) {
        Double v = secondary.get(name);
        Double d = secondary.get(per);
        return v == null || d == null || d == 0 ? Double.NaN : v / d;
    }

    /** "dmabuf.bench.X.m" with params {a=1} -> "X.m[a=1]". */
    static String key(String benchmark, Map<String, Object> params) {
        String name = benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1);
        if (params == null || params.isEmpty()) {
            return name;
        }
        StringBuilder sb = new StringBuilder(name).append('[');
        new TreeMap<>(params).forEach((k, v) -> sb.append(k).append('=').append(v).append(','));
        sb.setLength(sb.length() - 1);
        return sb.append(']').toString();
    }

    static double toNanos(String unit) {
        return switch (unit) {
            case "ns/op" -> 1;
            case "us/op" -> 1e3;
            case "ms/op" -> 1e6;
            case "s/op" -> 1e9;
            default -> throw new IllegalArgumentException("unexpected JMH unit " + unit + " (AverageTime expected)");
        };
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }
}
