package dmabuf.launcher;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * Prints what the bundles log through the OSGi Log Service: WARN and ERROR always (so a problem is never silent),
 * INFO too with {@code --verbose}.
 * <p>
 * The Log Service API ({@code org.osgi.service.log}) lives in the Felix Log bundle, not on the launcher's class path,
 * and the framework is deliberately the same as in the integration tests (the system bundle exports nothing extra).
 * So the listener is a {@link Proxy} of the bundle's own {@code LogListener} interface, and the entries are read
 * through that bundle's {@code LogEntry} interface by reflection: public interface methods only.
 */
final class LogForwarder implements InvocationHandler {
    private static final String PACKAGE = "org.osgi.service.log.";

    private final Console console;
    private final boolean verbose;
    private final Runnable onError;
    private final AtomicInteger warnings = new AtomicInteger();
    private final AtomicInteger errors = new AtomicInteger();
    private Method getLogLevel;
    private Method getMessage;
    private Method getBundle;
    private Method getException;
    private Method getLoggerName;

    private LogForwarder(Console console, boolean verbose, Runnable onError) {
        this.console = console;
        this.verbose = verbose;
        this.onError = onError;
    }

    /**
     * Registers a listener with the Log Service's LogReaderService.
     *
     * @param context the system bundle's context
     * @param onError called for every ERROR entry, e.g. to stop waiting for a stream that will not come
     */
    static LogForwarder attach(BundleContext context, Console console, boolean verbose, Runnable onError)
            throws ReflectiveOperationException {
        ServiceReference<?> ref = context.getServiceReference(PACKAGE + "LogReaderService");
        if (ref == null) {
            throw new IllegalStateException("the Log Service bundle registered no LogReaderService");
        }
        Bundle provider = ref.getBundle();
        Class<?> readerType = provider.loadClass(PACKAGE + "LogReaderService");
        Class<?> listenerType = provider.loadClass(PACKAGE + "LogListener");
        Class<?> entryType = provider.loadClass(PACKAGE + "LogEntry");
        LogForwarder forwarder = new LogForwarder(console, verbose, onError);
        forwarder.getLogLevel = entryType.getMethod("getLogLevel");
        forwarder.getMessage = entryType.getMethod("getMessage");
        forwarder.getBundle = entryType.getMethod("getBundle");
        forwarder.getException = entryType.getMethod("getException");
        forwarder.getLoggerName = entryType.getMethod("getLoggerName");
        Object listener = Proxy.newProxyInstance(listenerType.getClassLoader(), new Class<?>[] { listenerType },
                forwarder);
        Object reader = context.getService(ref);
        readerType.getMethod("addLogListener", listenerType).invoke(reader, listener);
        return forwarder;
    }

    /** WARN entries seen. */
    int warnings() {
        return warnings.get();
    }

    /** ERROR entries seen. */
    int errors() {
        return errors.get();
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) {
        return switch (method.getName()) {
            case "logged" -> {
                logged(args[0]);
                yield null;
            }
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            case "toString" -> "dmabuf-launcher log forwarder";
            default -> throw new UnsupportedOperationException(method.toString());
        };
    }

    private void logged(Object entry) {
        try {
            String level = String.valueOf(getLogLevel.invoke(entry)); // LogLevel: AUDIT ERROR WARN INFO DEBUG TRACE
            boolean error = level.equals("ERROR");
            boolean warning = level.equals("WARN");
            if (!error && !warning && !(verbose && (level.equals("INFO") || level.equals("AUDIT")))) {
                return;
            }
            // The Log Service also records every framework, bundle and service event (loggers Events.*) at INFO or
            // DEBUG: noise even for --verbose. Their ERROR and WARN entries (a FrameworkEvent ERROR) still show.
            if (!error && !warning && String.valueOf(getLoggerName.invoke(entry)).startsWith("Events.")) {
                return;
            }
            Bundle bundle = (Bundle) getBundle.invoke(entry);
            Throwable exception = (Throwable) getException.invoke(entry);
            String line = "log " + level + " " + (bundle == null ? "?" : bundle.getSymbolicName()) + ": "
                    + getMessage.invoke(entry) + (exception == null ? "" : " (" + exception + ")");
            if (error) {
                errors.incrementAndGet();
                console.problem(line);
                onError.run();
            } else if (warning) {
                warnings.incrementAndGet();
                console.problem(line);
            } else {
                console.info(line);
            }
        } catch (IllegalAccessException | InvocationTargetException e) {
            console.problem("could not read a log entry: " + e);
        }
    }
}
