package dmabuf.demo;

import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.Bundle;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogListener;

/**
 * Prints what the bundles log through the OSGi Log Service: WARN and ERROR always (so a problem is never silent),
 * INFO too with {@code --verbose}; counts the errors so the demo fails on them.
 */
final class LogPrinter implements LogListener {
    private final Console console;
    private final boolean verbose;
    private final AtomicInteger errors = new AtomicInteger();

    LogPrinter(Console console, boolean verbose) {
        this.console = console;
        this.verbose = verbose;
    }

    int errors() {
        return errors.get();
    }

    @Override
    public void logged(LogEntry entry) {
        LogLevel level = entry.getLogLevel();
        boolean problem = level == LogLevel.ERROR || level == LogLevel.WARN;
        // The Log Service also records every framework, bundle and service event (loggers "Events.*") at INFO or
        // DEBUG: noise even for --verbose.
        if (!problem && (!verbose || !level.implies(LogLevel.INFO) || entry.getLoggerName().startsWith("Events."))) {
            return;
        }
        Bundle bundle = entry.getBundle();
        Throwable exception = entry.getException();
        String line = "log " + level + " " + (bundle == null ? "?" : bundle.getSymbolicName()) + ": "
                + entry.getMessage() + (exception == null ? "" : " (" + exception + ")");
        if (level == LogLevel.ERROR) {
            errors.incrementAndGet();
            console.problem(line);
        } else if (problem) {
            console.problem(line);
        } else {
            console.info(line);
        }
    }
}
