package dmabuf.memory;

/**
 * Where the memory engine's messages go: the OSGi Log Service in a framework, a recorder in tests. The engine carries
 * no logging backend of its own.
 */
public interface MemoryLog {
    /** A lifecycle message. */
    void info(String message);

    /** Something a bundle did wrong that the engine repaired (a pool left open), or a degraded mode. */
    void warn(String message);

    /** Something failed that the engine could not repair. */
    void error(String message, Throwable cause);

    /** Detail for debugging. */
    void debug(String message);
}
