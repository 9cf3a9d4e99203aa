package dmabuf.exporter.v4l2;

/** Where the device's messages go: the OSGi Log Service in a framework, a recorder in tests. */
interface DeviceLog {
    /** A lifecycle message. */
    void info(String message);

    /** Something was refused or repaired. */
    void warn(String message);

    /** Something failed that the device could not repair. */
    void error(String message, Throwable cause);
}
