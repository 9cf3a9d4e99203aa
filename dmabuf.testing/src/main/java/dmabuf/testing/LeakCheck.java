package dmabuf.testing;

import java.lang.ref.PhantomReference;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.api.runtime.RuntimeDTO;

/**
 * Asserts, through the runtime DTO only, that code under test leaked nothing: no leak report (of any kind, including
 * buffers dropped without put, which the core finds when the garbage collector does) appeared since {@link #start()},
 * and, on request, no buffer is left allocated.
 * <p>
 * Dropped buffers are found only after a garbage collection: {@link #newLeaks()} runs one first
 * ({@link #collectGarbage}), then reads the DTO, which is the core's checkpoint for them. Tracking every buffer needs
 * the core's {@code leak.report.level} at PARANOID; at SIMPLE and ADVANCED only a sample is tracked.
 */
public final class LeakCheck {
    /** The longest one garbage collection barrier waits. */
    public static final Duration GC_TIMEOUT = Duration.ofSeconds(10);

    private final Supplier<RuntimeDTO> runtime;
    private long baseline;

    private LeakCheck(Supplier<RuntimeDTO> runtime) {
        this.runtime = Objects.requireNonNull(runtime, "runtime");
    }

    /** A check reading the DTO from the supplier (e.g. a core made by a test). */
    public static LeakCheck of(Supplier<RuntimeDTO> runtime) {
        return new LeakCheck(runtime);
    }

    /** A check reading the DTO of the runtime service. */
    public static LeakCheck of(DmaBufRuntime runtime) {
        Objects.requireNonNull(runtime, "runtime");
        return new LeakCheck(runtime::getRuntimeDTO);
    }

    /** Remembers how many leaks were reported so far; only later ones count. Returns this. */
    public LeakCheck start() {
        baseline = read().leaksReported;
        return this;
    }

    /** The leaks reported since {@link #start()}, after a garbage collection so that dropped buffers are found. */
    public List<LeakDTO> newLeaks() {
        collectGarbage();
        RuntimeDTO dto = read();
        long fresh = dto.leaksReported - baseline;
        List<LeakDTO> recent = dto.leaks == null ? List.of() : Arrays.asList(dto.leaks);
        if (fresh <= 0) {
            return List.of();
        }
        List<LeakDTO> out = new ArrayList<>(recent.subList((int) Math.max(0, recent.size() - fresh), recent.size()));
        if (out.size() < fresh) {
            // the DTO keeps a bounded history: say so rather than pretend fewer leaks happened
            LeakDTO more = new LeakDTO();
            more.kind = "(not in the history)";
            more.detail = (fresh - out.size()) + " more leak report(s) fell out of the runtime DTO's history";
            out.add(0, more);
        }
        return out;
    }

    /** Fails, listing each one, when any leak was reported since {@link #start()}. */
    public void assertNoLeaks() {
        List<LeakDTO> leaks = newLeaks();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " leak(s) reported:\n" + describe(leaks));
        }
    }

    /** Fails unless no buffer is left: none listed, no live bytes. */
    public void assertNothingAllocated() {
        collectGarbage();
        RuntimeDTO dto = read();
        if (dto.totalBuffers != 0 || dto.totalBytes != 0) {
            StringBuilder sb = new StringBuilder(dto.totalBuffers + " buffer(s) of " + dto.totalBytes
                    + " bytes still allocated:");
            if (dto.buffers != null) {
                for (var b : dto.buffers) {
                    sb.append("\n  dma-buf ").append(b.id).append(b.name == null ? "" : " '" + b.name + "'")
                            .append(" of ").append(b.exporterName).append(", ").append(b.size).append(" bytes, ")
                            .append(b.count).append(" reference(s)");
                }
            }
            throw new AssertionError(sb.toString());
        }
    }

    /** One line per leak: kind, bundle, buffer, detail. */
    public static String describe(List<LeakDTO> leaks) {
        StringBuilder sb = new StringBuilder();
        for (LeakDTO l : leaks) {
            sb.append("  ").append(l.kind).append(" of dma-buf ").append(l.bufferId)
                    .append(l.bufferName == null ? "" : " '" + l.bufferName + "'").append(" held by bundle ")
                    .append(l.bundleSymbolicName).append(" [").append(l.bundleId).append("]");
            if (l.detail != null) {
                sb.append(": ").append(l.detail);
            }
            if (l.creationSite != null) {
                sb.append("\n    exported at: ").append(l.creationSite.strip().replace("\n", "\n    "));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /**
     * Runs a full garbage collection and waits until the JVM has handed the references it found to their queues:
     * two rounds, each waiting (bounded by {@link #GC_TIMEOUT}) for a sentinel's phantom reference to be enqueued, so
     * that every reference the first collection found is enqueued by the time this returns.
     */
    public static void collectGarbage() {
        ReferenceQueue<Object> queue = new ReferenceQueue<>();
        for (int round = 0; round < 2; round++) {
            PhantomReference<Object> sentinel = new PhantomReference<>(new Object(), queue);
            System.gc();
            try {
                if (queue.remove(GC_TIMEOUT.toMillis()) == null) {
                    throw new AssertionError("no garbage collection within " + GC_TIMEOUT
                            + " (is -XX:+DisableExplicitGC set?); dropped buffers cannot be checked");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for a garbage collection", e);
            } finally {
                Reference.reachabilityFence(sentinel);
            }
        }
    }

    private RuntimeDTO read() {
        RuntimeDTO dto = runtime.get();
        if (dto == null) {
            throw new AssertionError("the runtime gave no DTO");
        }
        return dto;
    }
}
