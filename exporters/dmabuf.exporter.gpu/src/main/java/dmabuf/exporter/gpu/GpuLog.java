package dmabuf.exporter.gpu;

/**
 * Where the driver's messages go: the OSGi Log Service in a framework ({@link OsgiGpuLog}), a recorder in tests. The
 * driver's logic ({@link GpuDevice}) carries no logging backend of its own, so it runs without a framework.
 */
interface GpuLog {
    /** A lifecycle message. */
    void info(String message);

    /** Something the driver refused or could only do in part (a configuration change it kept the old value for). */
    void warn(String message);

    /** Something failed that the driver could not repair. */
    void error(String message, Throwable cause);

    /** Detail for debugging (placements). */
    void debug(String message);
}
