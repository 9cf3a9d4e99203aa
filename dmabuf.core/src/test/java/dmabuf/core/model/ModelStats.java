package dmabuf.core.model;

import java.util.Map;
import java.util.TreeMap;

import dmabuf.api.Errno;

/**
 * Figures of one property run, for target/model-report.txt: sequences and operations run, and the outcome of every
 * operation (ok, an errno, or skipped because there was nothing to pick yet). Only the property's thread writes them.
 */
final class ModelStats {
    static final String OK = "ok";
    static final String SKIPPED = "skipped";

    /** False while the minimizer replays sequences. */
    static boolean recording = true;
    static long sequences;
    static long operations;
    static long cpuMillis;
    /** Outcome counts over all operations. */
    static final Map<String, Long> outcomes = new TreeMap<>();
    /** Outcome counts by operation. */
    static final Map<String, Map<String, Long>> byOp = new TreeMap<>();

    private ModelStats() {
    }

    static void reset() {
        sequences = 0;
        operations = 0;
        outcomes.clear();
        byOp.clear();
    }

    static void sequenceStarted() {
        if (recording) {
            sequences++;
        }
    }

    static void operationRun() {
        if (recording) {
            operations++;
        }
    }

    static void outcome(String op, Errno errno) {
        outcome(op, errno, false);
    }

    static void outcome(String op, Errno errno, boolean skipped) {
        if (!recording) {
            return;
        }
        String key = skipped ? SKIPPED : errno == null ? OK : errno.name();
        outcomes.merge(key, 1L, Long::sum);
        byOp.computeIfAbsent(op, k -> new TreeMap<>()).merge(key, 1L, Long::sum);
    }
}
