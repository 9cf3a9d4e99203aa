package dmabuf.core;

/** How much the core reports about references a bundle still held when it went away (as Netty's leak levels). */
public enum LeakReportLevel {
    /** Reclaim silently; nothing is logged or kept. */
    DISABLED,
    /** Reclaim, log one WARN per item and keep it in the runtime DTO. */
    SIMPLE,
    /** As SIMPLE, plus the stack where each buffer was exported (costs a stack capture per export). */
    ADVANCED
}
