package dmabuf.core.model;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Polishes a failing sequence after jqwik's (time-bounded) shrinking: removes chunks and then single operations
 * (delta debugging), then moves each operation's selectors to 0 (the plain choice), keeping a change only while the
 * sequence still fails the same way (same exception type, same first message line once numbers and bundle names
 * are taken out). Replays are cheap (a fresh core per try), and the polish stops after a time budget.
 */
final class Minimizer {
    private static final long BUDGET_NANOS = Long.getLong("dmabuf.model.minimize.seconds", 30) * 1_000_000_000L;

    /** The outcome: the operations, the resolved sequence as it ran, and the failure. */
    record Result(List<Op> ops, List<String> history, Throwable failure, int replays) {
    }

    private final String signature;
    private final long deadline = System.nanoTime() + BUDGET_NANOS;
    private int replays;
    private List<String> lastHistory = List.of();
    private Throwable lastFailure;

    private Minimizer(String signature) {
        this.signature = signature;
    }

    /** Minimizes {@code ops}, which fail with {@code failure}; null when the sequence does not fail when replayed. */
    static Result minimize(List<Op> ops, Throwable failure) {
        Minimizer m = new Minimizer(signature(failure));
        if (!m.fails(ops)) {
            return null;
        }
        List<Op> current = m.removeChunks(new ArrayList<>(ops));
        current = m.zeroSelectors(current);
        current = m.removeChunks(current);
        m.fails(current); // leaves the history of the final sequence
        return new Result(current, m.lastHistory, m.lastFailure, m.replays);
    }

    private static final Pattern MISMATCH = Pattern.compile(
            "^\\S*?\\.(\\w+)\\(.*?\\): the model predicts (\\w+).*?, but the core (succeeded|refused with \\w+)");

    /**
     * What kind of failure it is: the exception type and, for a wrong outcome, the operation and the two outcomes;
     * for a wrong state, what was compared (without the values); numbers and bundle names taken out.
     */
    static String signature(Throwable t) {
        String first = String.valueOf(t.getMessage()).lines().findFirst().orElse("");
        Matcher m = MISMATCH.matcher(first);
        if (m.find()) {
            first = m.group(1) + ": model " + m.group(2) + ", core " + m.group(3);
        } else if (first.contains(" ==> ")) {
            first = first.substring(0, first.indexOf(" ==> "));
        }
        return t.getClass().getName() + ": " + first.replaceAll("(exporter|importer|third)\\.bundle", "B")
                .replaceAll(" \\((FULL|MINIMAL|CACHING|DYNAMIC)\\)", "")
                .replaceAll("-?\\d+", "");
    }

    /** Replays the sequence on a fresh world; true when it fails the same way. */
    private boolean fails(List<Op> ops) {
        replays++;
        World w = World.create();
        try {
            for (Op op : ops) {
                w.run(op);
            }
            return false;
        } catch (Throwable t) {
            if (signature(t).equals(signature)) {
                lastHistory = List.copyOf(w.history);
                lastFailure = t;
                return true;
            }
            return false;
        }
    }

    private boolean timeLeft() {
        return System.nanoTime() - deadline < 0;
    }

    private List<Op> removeChunks(List<Op> ops) {
        for (int chunk = Math.max(1, ops.size() / 2); chunk >= 1 && timeLeft(); chunk /= 2) {
            boolean removed = true;
            while (removed && timeLeft()) {
                removed = false;
                for (int start = ops.size() - chunk; start >= 0 && timeLeft(); start--) {
                    List<Op> candidate = new ArrayList<>(ops.subList(0, start));
                    candidate.addAll(ops.subList(Math.min(ops.size(), start + chunk), ops.size()));
                    if (fails(candidate)) {
                        ops = candidate;
                        removed = true;
                        start = Math.min(start, ops.size() - chunk + 1);
                    }
                }
            }
        }
        return ops;
    }

    /** Each int, long or boolean component of each operation to 0 / false, where the failure stays. */
    private List<Op> zeroSelectors(List<Op> ops) {
        for (int i = 0; i < ops.size() && timeLeft(); i++) {
            RecordComponent[] components = ops.get(i).getClass().getRecordComponents();
            for (int c = 0; c < components.length && timeLeft(); c++) {
                Op zeroed = withComponent(ops.get(i), components, c);
                if (zeroed != null) {
                    List<Op> candidate = new ArrayList<>(ops);
                    candidate.set(i, zeroed);
                    if (fails(candidate)) {
                        ops = candidate;
                    }
                }
            }
        }
        return ops;
    }

    /** The operation with component {@code index} at 0 / false, or null when it already is (or cannot be). */
    private static Op withComponent(Op op, RecordComponent[] components, int index) {
        try {
            Object[] args = new Object[components.length];
            Class<?>[] types = new Class<?>[components.length];
            for (int i = 0; i < components.length; i++) {
                args[i] = components[i].getAccessor().invoke(op);
                types[i] = components[i].getType();
            }
            Object zero = types[index] == int.class ? (Object) 0 : types[index] == long.class ? (Object) 0L
                    : types[index] == boolean.class ? (Object) false : null;
            if (zero == null || zero.equals(args[index])) {
                return null;
            }
            args[index] = zero;
            Constructor<?> ctor = op.getClass().getDeclaredConstructor(types);
            return (Op) ctor.newInstance(args);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }
}
