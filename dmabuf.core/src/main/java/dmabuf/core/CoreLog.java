package dmabuf.core;

/**
 * Where the core's messages go: the OSGi Log Service in a framework, a recorder in tests. The core carries no
 * logging backend of its own.
 */
public interface CoreLog {
    /** A lifecycle message. */
    void info(String message);

    /** Something a driver did wrong that the core repaired: a leak, a misuse. */
    void warn(String message);

    /** A driver broke its contract and the core had to refuse or clean up. */
    void error(String message, Throwable cause);

    /** Detail for debugging. */
    void debug(String message);
}
