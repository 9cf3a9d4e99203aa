package dmabuf.exporter.gpu;

import org.osgi.service.log.Logger;

/** {@link GpuLog} over the OSGi Log Service logger of the component. */
final class OsgiGpuLog implements GpuLog {
    private final Logger logger;

    OsgiGpuLog(Logger logger) {
        this.logger = logger;
    }

    @Override
    public void info(String message) {
        logger.info("{}", message);
    }

    @Override
    public void warn(String message) {
        logger.warn("{}", message);
    }

    @Override
    public void error(String message, Throwable cause) {
        if (cause == null) {
            logger.error("{}", message);
        } else {
            logger.error("{}", message, cause);
        }
    }

    @Override
    public void debug(String message) {
        logger.debug("{}", message);
    }
}
