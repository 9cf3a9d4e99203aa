package dmabuf.core.sync;

import dmabuf.api.sync.DmaFence;

/**
 * Which threads are inside a fence signalling section (see {@link DmaFence#beginSignalling()}): one per core, a
 * nesting depth per thread.
 */
final class Signalling {
    private final ThreadLocal<int[]> depth = ThreadLocal.withInitial(() -> new int[1]);

    /** Opens a section on the calling thread. */
    DmaFence.SignallingSection enter() {
        int[] d = depth.get();
        d[0]++;
        Thread opener = Thread.currentThread();
        boolean[] closed = new boolean[1];
        return () -> {
            if (Thread.currentThread() != opener) {
                throw new IllegalStateException("a signalling section must be closed on the thread that opened it");
            }
            if (!closed[0]) {
                closed[0] = true;
                d[0]--;
            }
        };
    }

    /** True when the calling thread is inside a section. */
    boolean active() {
        return depth.get()[0] > 0;
    }
}
