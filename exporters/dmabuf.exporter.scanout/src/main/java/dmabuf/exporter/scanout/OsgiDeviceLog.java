package dmabuf.exporter.scanout;

import org.osgi.service.log.Logger;

/** The device's log over the OSGi Log Service's {@link Logger}. */
final class OsgiDeviceLog implements DeviceLog {
    private final Logger logger;

    OsgiDeviceLog(Logger logger) {
        this.logger = logger;
    }

    @Override
    public void info(String message) {
        logger.info(message);
    }

    @Override
    public void warn(String message) {
        logger.warn(message);
    }

    @Override
    public void error(String message, Throwable cause) {
        logger.error(message, cause);
    }

    @Override
    public void debug(String message) {
        logger.debug(message);
    }
}
