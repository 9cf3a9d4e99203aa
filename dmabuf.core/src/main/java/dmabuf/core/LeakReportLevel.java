package dmabuf.core;

/**
 * How much the core reports about leaks (as Netty's leak levels): what a bundle still held when it went away, and
 * buffers dropped without put ({@link dmabuf.core.leak.LeakDetector}).
 */
public enum LeakReportLevel {
    /** Reclaim silently; nothing is logged or kept, no buffer is tracked. */
    DISABLED,
    /** Reclaim, log one WARN per item and keep it in the runtime DTO; track a sample of buffers for drops. */
    SIMPLE,
    /** As SIMPLE, plus the stack where each buffer was exported (costs a stack capture per export). */
    ADVANCED,
    /** As ADVANCED, and every buffer is tracked for drops (for tests and debugging, not for production). */
    PARANOID;

    /** True from ADVANCED on: export sites are recorded. */
    public boolean recordsSites() {
        return compareTo(ADVANCED) >= 0;
    }
}
