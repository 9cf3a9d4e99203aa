package dmabuf.memory.osgi;

import org.osgi.service.log.Logger;

import dmabuf.memory.MemoryLog;

/** The engine's log over the OSGi Log Service's {@link Logger}. */
final class OsgiMemoryLog implements MemoryLog {
    private final Logger logger;

    OsgiMemoryLog(Logger logger) {
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
