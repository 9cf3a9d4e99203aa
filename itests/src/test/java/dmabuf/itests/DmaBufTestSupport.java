package dmabuf.itests;

import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.junit.After;
import org.junit.Before;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogListener;
import org.osgi.service.log.LogReaderService;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Base class of the integration tests, in the style of the Felix SCR and Sling test bases: the framework
 * configuration, an injected {@link BundleContext}, service and bundle look-ups, and a watch on the OSGi Log Service
 * that fails a test when anything logged an ERROR it did not {@linkplain #expectError(String) expect}.
 *
 * <p><b>Reactor strategy: {@link PerClass}.</b> One framework per test class, shared by its test methods. Starting
 * Felix and installing a dozen bundles costs about a second, which {@code PerMethod} would pay for every method.
 * The price is that methods of one class see each other's side effects, so: a test that changes the framework
 * (stops, updates or uninstalls bundles, leaves configurations or services behind) must undo it, or live in a class
 * of its own annotated {@code @ExamReactorStrategy(PerMethod.class)}. Checks of the started runtime, like the smoke
 * tests, only read state and are the ideal case for sharing. The error-log check copes with sharing: each method
 * checks the ERROR entries logged since the previous method's check (the first method also covers the start-up).
 *
 * <p>Everything here runs inside the framework (in the probe bundle), except {@link #configuration()}, which Pax
 * Exam calls in the test JVM before it starts the framework.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public abstract class DmaBufTestSupport {

    /** Default time to wait for services and component states, {@code -Ddmabuf.itest.timeout=...} (ms). */
    protected static final long TIMEOUT = Long.getLong("dmabuf.itest.timeout", 10_000L);

    /**
     * The highest log sequence number already checked by an earlier test method in this framework. Static on
     * purpose: the probe bundle, and with it this class, lives exactly as long as one framework.
     */
    private static long checkedUpTo = -1;

    @Inject
    protected BundleContext bundleContext;

    private final List<ServiceTracker<?, ?>> trackers = new ArrayList<>();
    private final List<Pattern> expectedErrors = new ArrayList<>();
    private final Map<Long, LogEntry> errors = new ConcurrentSkipListMap<>();
    private LogReaderService logReader;
    private long testStartSequence;
    private final LogListener errorRecorder = this::record;

    /** Pax Exam calls this (on the test JVM side); subclasses add options by overriding {@link #extraOptions()}. */
    @Configuration
    public Option[] configuration() {
        List<Option> options = new ArrayList<>(Arrays.asList(DmaBufOptions.all(getClass().getSimpleName())));
        options.addAll(Arrays.asList(extraOptions()));
        return options.toArray(new Option[0]);
    }

    /** Options a test class needs on top of {@link DmaBufOptions#all(String)}. */
    protected Option[] extraOptions() {
        return new Option[0];
    }

    // ---------------------------------------------------------------------------------------- error-log watch

    @Before
    public final void startErrorLogWatch() {
        logReader = awaitService(LogReaderService.class, null, TIMEOUT);
        logReader.addLogListener(errorRecorder);
        readLogHistory();
        testStartSequence = newestSequence();
    }

    /** Fails the test if an unexpected ERROR was logged; then releases the services the test looked up. */
    @After
    public final void checkErrorLogAndCleanUp() {
        try {
            if (logReader != null) {
                checkErrorLog();
            }
        } finally {
            trackers.forEach(ServiceTracker::close);
            trackers.clear();
        }
    }

    private void checkErrorLog() {
        logReader.removeLogListener(errorRecorder);
        // The Log Service adds an entry to its history before it hands it to the listeners (on another thread),
        // so the history has everything logged so far, even what the listener has not seen yet.
        readLogHistory();
        List<LogEntry> unexpected = new ArrayList<>();
        for (LogEntry entry : errors.values()) {
            checkedUpTo = Math.max(checkedUpTo, entry.getSequence());
            if (!isExpected(entry)) {
                unexpected.add(entry);
            }
        }
        checkedUpTo = Math.max(checkedUpTo, newestSequence());
        errors.clear();
        if (!unexpected.isEmpty()) {
            fail("Unexpected ERROR log entries (declare expected ones with expectError):\n"
                + unexpected.stream().map(this::describe).collect(Collectors.joining("\n")));
        }
    }

    /**
     * Declares that this test expects ERROR log entries whose message, or the message of their exception,
     * matches {@code regex} ({@link java.util.regex.Matcher#find() find}, not a full match). Such entries do not
     * fail the test. Valid for the current test method only.
     */
    protected final void expectError(String regex) {
        expectedErrors.add(Pattern.compile(regex));
    }

    private void record(LogEntry entry) {
        if (entry.getLogLevel() == LogLevel.ERROR && entry.getSequence() > checkedUpTo) {
            errors.putIfAbsent(entry.getSequence(), entry);
        }
    }

    private void readLogHistory() {
        for (Enumeration<LogEntry> log = logReader.getLog(); log.hasMoreElements();) {
            record(log.nextElement());
        }
    }

    private long newestSequence() {
        Enumeration<LogEntry> log = logReader.getLog(); // newest first
        return log.hasMoreElements() ? log.nextElement().getSequence() : -1;
    }

    private boolean isExpected(LogEntry entry) {
        for (Pattern p : expectedErrors) {
            if (p.matcher(String.valueOf(entry.getMessage())).find()
                || entry.getException() != null
                    && p.matcher(String.valueOf(entry.getException().getMessage())).find()) {
                return true;
            }
        }
        return false;
    }

    private String describe(LogEntry e) {
        String text = "  [" + e.getSequence() + (e.getSequence() <= testStartSequence ? ", before this test" : "")
            + "] "
            + (e.getBundle() == null ? "?" : e.getBundle().getSymbolicName()) + " " + e.getLoggerName()
            + ": " + e.getMessage();
        if (e.getException() != null) {
            java.io.StringWriter trace = new java.io.StringWriter();
            e.getException().printStackTrace(new java.io.PrintWriter(trace));
            text += "\n" + trace;
        }
        return text;
    }

    // ------------------------------------------------------------------------------------------- look-ups

    /**
     * Waits up to {@code timeoutMillis} for a service of {@code type} matching the optional LDAP {@code filter}
     * and returns it. The service stays in use (its tracker open) until the end of the test method, so a
     * delayed DS component is not deactivated under the test's feet.
     */
    protected final <T> T awaitService(Class<T> type, String filter, long timeoutMillis) {
        String spec = "(objectClass=" + type.getName() + ")";
        if (filter != null && !filter.isBlank()) {
            spec = "(&" + spec + (filter.startsWith("(") ? filter : "(" + filter + ")") + ")";
        }
        Filter f;
        try {
            f = bundleContext.createFilter(spec);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException("Bad service filter " + spec, e);
        }
        ServiceTracker<T, T> tracker = new ServiceTracker<>(bundleContext, f, null);
        tracker.open();
        trackers.add(tracker);
        T service;
        try {
            service = tracker.waitForService(timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted while waiting for service " + spec, e);
        }
        if (service == null) {
            fail("No service " + spec + " within " + timeoutMillis + " ms");
        }
        return service;
    }

    /** The installed bundle with this symbolic name (the highest version if there are several); fails if none. */
    protected final Bundle bundle(String symbolicName) {
        Bundle found = null;
        for (Bundle b : bundleContext.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())
                && (found == null || b.getVersion().compareTo(found.getVersion()) > 0)) {
                found = b;
            }
        }
        if (found == null) {
            fail("No bundle " + symbolicName + " installed. Installed: " + Arrays.stream(bundleContext.getBundles())
                .map(b -> b.getSymbolicName() + " " + b.getVersion()).collect(Collectors.joining(", ")));
        }
        return found;
    }

    /**
     * Waits until {@code problems} returns an empty list and fails with its last answer if that does not happen
     * within {@code timeoutMillis}. {@code problems} is evaluated now and again each time SCR reports that
     * component states changed (the {@code service.changecount} of {@link ServiceComponentRuntime}), so use it
     * for conditions on DS components.
     */
    protected final void awaitComponents(Supplier<List<String>> problems, long timeoutMillis) {
        List<List<String>> last = new ArrayList<>(List.of(List.of()));
        awaitCondition(ServiceComponentRuntime.class, () -> {
            last.set(0, problems.get());
            return last.get(0).isEmpty();
        }, timeoutMillis, () -> String.join("\n  ", last.get(0)));
    }

    /**
     * Waits until {@code condition} holds, evaluating it now, whenever a service of {@code watched} changes its
     * properties (e.g. a {@code service.changecount}), and at least every 100 ms; fails after {@code timeoutMillis}
     * with {@code what}. Never sleeps blindly: the wait ends as soon as the condition holds.
     */
    protected final void awaitCondition(Class<?> watched, BooleanSupplier condition, long timeoutMillis,
            Supplier<String> what) {
        Object signal = new Object();
        ServiceListener listener = event -> {
            if (event.getType() == ServiceEvent.MODIFIED) {
                synchronized (signal) {
                    signal.notifyAll();
                }
            }
        };
        try {
            bundleContext.addServiceListener(listener, "(objectClass=" + watched.getName() + ")");
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        try {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            synchronized (signal) {
                while (!condition.getAsBoolean()) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) {
                        fail("After " + timeoutMillis + " ms:\n  " + what.get());
                    }
                    signal.wait(Math.min(left, 100));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted", e);
        } finally {
            bundleContext.removeServiceListener(listener);
        }
    }
}
