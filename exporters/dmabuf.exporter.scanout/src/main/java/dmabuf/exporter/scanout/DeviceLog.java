package dmabuf.exporter.scanout;

/** Where the device's messages go: the OSGi Log Service in a framework, a recorder in tests. */
interface DeviceLog {
    /** A lifecycle message. */
    void info(String message);

    /** A configuration change refused, a buffer that had to be revoked. */
    void warn(String message);

    /** Something failed that the device could not repair. */
    void error(String message, Throwable cause);

    /** Detail for debugging. */
    void debug(String message);
}
