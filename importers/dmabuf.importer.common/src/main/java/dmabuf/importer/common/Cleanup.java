package dmabuf.importer.common;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Undo steps run in reverse order on close, every one of them even if some fail: with try-with-resources a failure
 * half-way through (attach, map, begin, vmap) undoes exactly what was done. The first failure of a step is thrown
 * (suppressed by the body's own exception, if any); later ones are added to it as suppressed.
 */
public final class Cleanup implements AutoCloseable {
    private final Deque<Runnable> steps = new ArrayDeque<>();

    /** Registers the undo of something just done. */
    public void push(Runnable undo) {
        steps.push(undo);
    }

    /** Forgets the steps without running them: what was done now belongs to someone else. */
    public void release() {
        steps.clear();
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
