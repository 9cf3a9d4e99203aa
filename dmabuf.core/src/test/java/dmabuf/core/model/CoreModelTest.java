package dmabuf.core.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.opentest4j.AssertionFailedError;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.ActionChainArbitrary;
import net.jqwik.api.state.Transformer;

/**
 * Model-based randomized test of the dma-buf core (issue 8): random sequences of up to {@value #DEFAULT_ACTIONS}
 * operations by three bundles (exporter.bundle, importer.bundle and third.bundle of a {@code CoreFixture} with fd
 * limit {@value Model#FD_LIMIT}) on buffers they export through four kinds of test exporter (full, minimal, caching,
 * dynamic): export, fd, dup, close, get by fd and by object, put, attach and dynamic attach (to a plain device or one
 * that takes one-page segments only), detach, map and unmap of attachments, CPU-access brackets (whole and ranged),
 * kmap and kmapAtomic and their unmaps, vmap and vunmap, mmap through an fd and closing the mapping, SYNC, llseek,
 * SET_NAME, revoke, invalidateMappings, and bundle stop ({@code core.closeClient}). Wrong calls are part of the mix:
 * bad flags, directions, ranges, fds, segments, tables and names, other bundles' attachments, non-owners revoking,
 * double put, detach, unmap and vunmap.
 * <p>
 * {@link Model} predicts every outcome (the result or the exact errno) from the rules (the brief, DmaBufRegistry's
 * javadoc); {@link World} runs each operation on the model and on the core, requires the same outcome, and then
 * compares everything observable: the buffers listed and their states, reference and vmap counts and names, fd
 * tables and fdinfo, each bundle's holdings (references, vmaps, brackets, kmaps), attachments (state, tables, pins,
 * invalidations), mappings, the exporters' call counts and the directions and ranges they saw (release exactly once,
 * vmap/vunmap balanced), leak reports by kind, that the core logged no error, and that CPU views work exactly while
 * their buffer is live.
 * <p>
 * <b>Shrinking.</b> Every parameter of an operation is a small selector (a bundle, the k-th object of a kind, an
 * index into a list of interesting values) whose 0 is the plain valid choice, and every operation means something
 * whatever ran before it (it picks among what exists, and has a precondition so that it is only chosen when there
 * is something to pick), so any operation can be dropped and any selector moved to 0. jqwik's own shrinking is off:
 * for ActionChains of this length its full mode runs for many minutes (its candidate enumeration, not our replays,
 * dominates), and its bounded mode keeps shrinking on a common-pool thread that it never stops after its time-out
 * (PropertyShrinker.withTimeout), which then races the tests that follow. {@link Minimizer} shrinks instead, on the
 * failing sequence's operations: delta debugging (chunks, then single operations) and selectors to 0, keeping only
 * sequences that fail the same way, within {@code -Ddmabuf.model.minimize.seconds} (30). The failure message and
 * the report list the minimal sequence as it ran, with the core's outcome of each step.
 * <p>
 * <b>How many sequences.</b> {@code @Property(tries = ...)} is a compile-time constant, so the {@link ModelRun} hook
 * sets the tries at run time through jqwik's {@code PropertyAttributes} before the property starts:
 * {@value #DEFAULT_TRIES} by default, or {@code -Ddmabuf.model.tries=N} for a longer run (Maven hands -D properties
 * to the test JVM), e.g. {@code mvn -pl dmabuf.api,dmabuf.core test -Dtest=CoreModelTest -Ddmabuf.model.tries=50000}.
 * Also {@code -Ddmabuf.model.actions=N} (longest sequence) and {@code -Ddmabuf.model.seed=S} (replays a run: jqwik
 * prints the seed, and the report has it).
 * <p>
 * <b>Figures.</b> After the property the hook writes {@code target/model-report.txt} (key = value lines): tries,
 * sequences and operations run, the outcome histogram (ok / errno / skipped) overall and per operation, the seed, the
 * duration (wall and the test JVM's CPU time), and on failure the minimal sequence and the generated one.
 */
class CoreModelTest {
    static final int DEFAULT_TRIES = 2000;
    static final int DEFAULT_ACTIONS = 60;

    @Property(shrinking = ShrinkingMode.OFF, edgeCases = EdgeCasesMode.NONE) // Minimizer shrinks, see the class doc
    @AddLifecycleHook(ModelRun.class)
    void coreBehavesLikeItsModel(@ForAll("sequences") ActionChain<World> sequence) {
        sequence.run();
    }

    @Provide
    Arbitrary<ActionChain<World>> sequences() {
        ActionChainArbitrary<World> chains = ActionChain.startWith(World::create);
        for (Tuple.Tuple3<Integer, Predicate<World>, Arbitrary<? extends Op>> op : Op.all()) {
            Arbitrary<Transformer<World>> transformers = op.get3().map(Step::new);
            Predicate<World> precondition = op.get2();
            chains = chains.withAction(op.get1(), new Action.Independent<World>() {
                @Override
                public boolean precondition(World w) {
                    return precondition.test(w);
                }

                @Override
                public Arbitrary<Transformer<World>> transformer() {
                    return transformers;
                }
            });
        }
        return chains.withMaxTransformations(Integer.getInteger("dmabuf.model.actions", DEFAULT_ACTIONS));
    }

    /** One step of a sequence: runs the operation on the world (model and core) and checks everything. */
    record Step(Op op) implements Transformer<World> {
        @Override
        public World apply(World w) {
            w.run(op);
            return w;
        }

        @Override
        public String transformation() {
            return op.toString();
        }
    }

    /**
     * Sets the tries (and seed) from system properties; after the property ran, polishes a failing sequence further
     * ({@link Minimizer}: jqwik's shrinking is bounded in time) and writes the figures.
     */
    public static final class ModelRun implements AroundPropertyHook {
        @Override
        public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
            context.attributes().setTries(Integer.getInteger("dmabuf.model.tries", DEFAULT_TRIES));
            String seed = System.getProperty("dmabuf.model.seed", "");
            if (!seed.isBlank()) {
                context.attributes().setSeed(seed.trim());
            }
            ModelStats.reset();
            long start = System.nanoTime();
            long cpuStart = processCpuNanos();
            PropertyExecutionResult result = property.execute();
            long millis = (System.nanoTime() - start) / 1_000_000;
            ModelStats.cpuMillis = (processCpuNanos() - cpuStart) / 1_000_000;
            World.retirePrevious();
            Minimizer.Result minimal = null;
            if (result.status() == PropertyExecutionResult.Status.FAILED) {
                minimal = minimize(result);
                World.retirePrevious();
                if (minimal != null) {
                    result = result.mapToFailed(new AssertionFailedError("the core does not behave like its model; "
                            + "minimal failing sequence (" + minimal.ops().size() + " operations, found in "
                            + minimal.replays() + " replays after jqwik's shrinking):\n    "
                            + String.join("\n    ", minimal.history()) + "\n" + rootCause(minimal.failure())
                                    .getMessage().lines().findFirst().orElse(""), result.throwable().orElse(null)));
                }
            }
            String report = report(context, result, millis, minimal);
            write(report);
            System.out.println(report.lines().filter(l -> !l.startsWith("op.")).reduce((a, b) -> a + "\n" + b)
                    .orElse(""));
            return result;
        }

        /** The operations of jqwik's shrunk sequence, minimized further; null if there is none or it passes now. */
        private static Minimizer.Result minimize(PropertyExecutionResult result) {
            List<Object> parameters = result.shrunkSample().map(s -> s.parameters())
                    .or(() -> result.originalSample().map(s -> s.parameters())).orElse(List.of());
            List<Op> ops = parameters.stream()
                    .filter(p -> p instanceof ActionChain<?>).flatMap(p -> ((ActionChain<?>) p).transformers()
                            .stream()).filter(t -> t instanceof Step).map(t -> ((Step) t).op()).toList();
            Throwable failure = result.throwable().map(ModelRun::rootCause).orElse(null);
            if (ops.isEmpty() || failure == null) {
                return null;
            }
            ModelStats.recording = false;
            try {
                return Minimizer.minimize(ops, failure);
            } finally {
                ModelStats.recording = true;
            }
        }

        /** CPU time of the whole test JVM (the machine may be busy with other work: wall time alone misleads). */
        private static long processCpuNanos() {
            return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                    ? os.getProcessCpuTime() : 0;
        }

        /** The failure inside jqwik's "Run failed after the following actions" wrapper. */
        static Throwable rootCause(Throwable t) {
            while (t.getCause() != null && String.valueOf(t.getMessage()).startsWith("Run failed after")) {
                t = t.getCause();
            }
            return t;
        }

        private static String report(PropertyLifecycleContext context, PropertyExecutionResult result, long millis,
                Minimizer.Result minimal) {
            StringBuilder sb = new StringBuilder();
            sb.append("# dmabuf.core model-based test (CoreModelTest): figures of the last run\n");
            sb.append("property = ").append(context.extendedLabel()).append('\n');
            sb.append("status = ").append(result.status()).append('\n');
            sb.append("seed = ").append(result.seed().orElse("")).append('\n');
            sb.append("tries = ").append(result.countTries()).append('\n');
            sb.append("checks = ").append(result.countChecks()).append('\n');
            sb.append("sequences.run = ").append(ModelStats.sequences).append('\n');
            sb.append("operations.run = ").append(ModelStats.operations).append('\n');
            sb.append("operations.max.per.sequence = ")
                    .append(Integer.getInteger("dmabuf.model.actions", DEFAULT_ACTIONS)).append('\n');
            sb.append("duration.ms = ").append(millis).append('\n');
            sb.append("cpu.ms = ").append(ModelStats.cpuMillis).append('\n');
            result.throwable().ifPresent(t -> sb.append("failure = ")
                    .append(String.valueOf(t.getMessage()).lines().findFirst().orElse("")).append('\n'));
            if (minimal != null) {
                sb.append("failure.minimal.cause = ").append(rootCause(minimal.failure()).getMessage().lines()
                        .findFirst().orElse("")).append('\n');
                for (int i = 0; i < minimal.history().size(); i++) {
                    sb.append("failure.minimal.").append(i + 1).append(" = ").append(minimal.history().get(i))
                            .append('\n');
                }
            }
            result.originalSample().ifPresent(s -> {
                for (Object p : s.parameters()) {
                    if (p instanceof ActionChain<?> chain) {
                        List<String> steps = chain.transformations();
                        for (int i = 0; i < steps.size(); i++) {
                            sb.append("failure.generated.").append(i + 1).append(" = ").append(steps.get(i))
                                    .append('\n');
                        }
                    }
                }
            });
            for (Map.Entry<String, Long> e : ModelStats.outcomes.entrySet()) {
                sb.append("outcome.").append(e.getKey()).append(" = ").append(e.getValue()).append('\n');
            }
            for (Map.Entry<String, Map<String, Long>> op : ModelStats.byOp.entrySet()) {
                for (Map.Entry<String, Long> e : op.getValue().entrySet()) {
                    sb.append("op.").append(op.getKey()).append('.').append(e.getKey()).append(" = ")
                            .append(e.getValue()).append('\n');
                }
            }
            return sb.toString();
        }

        /** target/ of the module: surefire runs tests with the module as basedir. */
        private static void write(String report) {
            Path target = Path.of(System.getProperty("basedir", "."), "target");
            try {
                Files.createDirectories(target);
                Files.writeString(target.resolve("model-report.txt"), report, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
