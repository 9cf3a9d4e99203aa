package dmabuf.itests;

import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import javax.inject.Inject;

import org.junit.After;
import org.junit.Before;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerSuite;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceEvent;
import org.osgi.framework.ServiceListener;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.log.LogReaderService;
import org.osgi.util.tracker.ServiceTracker;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.api.runtime.RuntimeDTO;

/**
 * Base class of the integration tests, in the style of the Felix SCR and Sling test bases: the framework
 * configuration, an injected {@link BundleContext}, service and bundle look-ups, throwaway driver bundles
 * ({@link ThrowawayBundles}), and two checks after every test method:
 * <ul>
 * <li>a watch on the OSGi Log Service fails the test when anything logged an ERROR it did not
 * {@linkplain #expectError(String) expect};</li>
 * <li>the core must be idle again: no buffer, attachment, fd, reference, vmap, mmap or CPU bracket held by any bundle
 * (checked through {@link DmaBufRuntime}), and every leak the core reported during the test must have been
 * {@linkplain #expectLeak(String, String) expected}.</li>
 * </ul>
 *
 * <p><b>Reactor strategy: {@link PerSuite}.</b> One framework for every test class in the JVM: {@link DmaBufSuiteIT}
 * runs them all in it (about a second of start-up instead of one per class). The price is that tests see each
 * other's side effects, so every test undoes what it changes (stops, updates or uninstalls bundles, configurations,
 * services); the idle check above enforces the part that matters most. The classes that change the most
 * (FileInstallIT, CoreRestartIT) run last in the suite. The error-log check copes with sharing: each method checks
 * the ERROR entries logged since the previous method's check (the first method also covers the start-up).
 *
 * <p>Everything here runs inside the framework (in the probe bundle), except {@link #configuration()}, which Pax
 * Exam calls in the test JVM before it starts the framework.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerSuite.class)
public abstract class DmaBufTestSupport {

    /** Default time to wait for services and component states, {@code -Ddmabuf.itest.timeout=...} (ms). */
    protected static final long TIMEOUT = Long.getLong("dmabuf.itest.timeout", 10_000L);

    @Inject
    protected BundleContext bundleContext;

    private final List<ServiceTracker<?, ?>> trackers = new ArrayList<>();
    private ServiceTracker<DmaBufRuntime, DmaBufRuntime> runtimeTracker;
    private ErrorLogWatch errorLog;
    private final List<String[]> expectedLeaks = new ArrayList<>();
    private final List<Bundle> installed = new ArrayList<>();
    private long leakBaselineService = -1;
    private long leakBaseline;

    /** Pax Exam calls this (on the test JVM side); subclasses add options by overriding {@link #extraOptions()}. */
    @Configuration
    public Option[] configuration() {
        ThrowawayBundles.buildAll();
        List<Option> options = new ArrayList<>(Arrays.asList(DmaBufOptions.all("suite-" + DmaBufOptions.FRAMEWORK)));
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
        errorLog = new ErrorLogWatch(awaitService(LogReaderService.class, null, TIMEOUT),
            bundleContext.getProperty(Constants.FRAMEWORK_UUID));
        errorLog.start();
        ServiceReference<DmaBufRuntime> ref = bundleContext.getServiceReference(DmaBufRuntime.class);
        if (ref != null) {
            DmaBufRuntime runtime = bundleContext.getService(ref);
            try {
                leakBaselineService = (Long) ref.getProperty(Constants.SERVICE_ID);
                leakBaseline = runtime.getRuntimeDTO().leaksReported;
            } finally {
                bundleContext.ungetService(ref);
            }
        }
    }

    /**
     * Uninstalls the bundles the test installed, waits for the core to be idle and checks the leaks it reported,
     * fails the test if an unexpected ERROR was logged, then releases the services the test looked up.
     */
    @After
    public final void checkErrorLogAndCleanUp() {
        AssertionError failure = null;
        try {
            uninstallInstalled();
            checkCoreIsIdle();
        } catch (AssertionError e) {
            failure = e;
        }
        try {
            if (errorLog != null) {
                List<String> unexpected = errorLog.stop();
                if (!unexpected.isEmpty()) {
                    fail("Unexpected ERROR log entries (declare expected ones with expectError):\n"
                        + String.join("\n", unexpected));
                }
            }
        } catch (AssertionError e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        } finally {
            trackers.forEach(ServiceTracker::close);
            trackers.clear();
            runtimeTracker = null;
        }
        if (failure != null) {
            throw failure;
        }
    }

    // ------------------------------------------------------------------------------------ core idle check

    /**
     * Declares that the core may report, during this test, leaks of {@code kind} (a {@code LeakDTO.KIND_*}) held by
     * the bundle {@code symbolicName}. Any other leak reported during the test fails it. Valid for the current test
     * method only; the test itself asserts how many it expects.
     */
    protected final void expectLeak(String symbolicName, String kind) {
        expectedLeaks.add(new String[] {symbolicName, kind});
    }

    private void checkCoreIsIdle() {
        RuntimeDTO[] last = new RuntimeDTO[1];
        awaitCondition(DmaBufRuntime.class, () -> {
            last[0] = runtime().getRuntimeDTO();
            return CoreIdleCheck.busy(last[0]).isEmpty();
        }, TIMEOUT, () -> "the core is not idle after the test: " + CoreIdleCheck.busy(last[0]));
        ServiceReference<DmaBufRuntime> ref = bundleContext.getServiceReference(DmaBufRuntime.class);
        long since = ref != null && leakBaselineService == (Long) ref.getProperty(Constants.SERVICE_ID)
            ? leakBaseline : 0; // a restarted core counts from 0
        List<String> unexpected = CoreIdleCheck.unexpectedLeaks(last[0], since, expectedLeaks);
        expectedLeaks.clear();
        if (!unexpected.isEmpty()) {
            fail("Unexpected leak reports (declare expected ones with expectLeak):\n  "
                + String.join("\n  ", unexpected));
        }
    }

    // ------------------------------------------------------------------------------------ bundles

    /** Installs and starts the jar; the bundle is uninstalled after the test (if the test did not). */
    protected final Bundle installAndStart(java.io.File jar) {
        try {
            Bundle b = bundleContext.installBundle(jar.toURI().toString());
            installed.add(b);
            b.start();
            return b;
        } catch (BundleException e) {
            throw new AssertionError("cannot install and start " + jar + ": " + e.getMessage(), e);
        }
    }

    /** Uninstalls the bundles this test installed with {@link #installAndStart}, newest first. */
    protected final void uninstallInstalled() {
        for (int i = installed.size() - 1; i >= 0; i--) {
            uninstallQuietly(installed.get(i));
        }
        installed.clear();
    }

    /** Installs and starts a {@link ThrowawayBundles throwaway bundle}. */
    protected final Bundle throwaway(String bsn) {
        return installAndStart(ThrowawayBundles.file(bsn));
    }

    /** Uninstalls the bundle unless it is gone already. */
    protected static void uninstallQuietly(Bundle b) {
        if (b.getState() != Bundle.UNINSTALLED) {
            try {
                b.uninstall();
            } catch (BundleException | IllegalStateException e) {
                throw new AssertionError("cannot uninstall " + b.getSymbolicName() + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * The dma-buf registry as {@code bundle} sees it (its own file table): got through that bundle's context, so the
     * core attributes everything done with it to that bundle, and takes it all back when the bundle stops.
     */
    protected final DmaBufRegistry registryOf(Bundle bundle) {
        BundleContext context = bundle.getBundleContext();
        ServiceReference<DmaBufRegistry> ref = context.getServiceReference(DmaBufRegistry.class);
        if (ref == null) {
            awaitService(DmaBufRegistry.class, null, TIMEOUT);
            ref = context.getServiceReference(DmaBufRegistry.class);
        }
        return context.getService(ref);
    }

    /** The core's runtime service (the current one: a restarted core publishes a new one). */
    protected final DmaBufRuntime runtime() {
        if (runtimeTracker == null) {
            runtimeTracker = new ServiceTracker<>(bundleContext, DmaBufRuntime.class, null);
            runtimeTracker.open();
            trackers.add(runtimeTracker);
        }
        try {
            DmaBufRuntime runtime = runtimeTracker.waitForService(TIMEOUT);
            if (runtime == null) {
                fail("No DmaBufRuntime service within " + TIMEOUT + " ms");
            }
            return runtime;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("Interrupted while waiting for the DmaBufRuntime", e);
        }
    }

    /** Waits until the condition holds, re-checked whenever the core publishes a change. */
    protected final void awaitRuntime(String what, BooleanSupplier condition) {
        awaitCondition(DmaBufRuntime.class, condition, TIMEOUT, () -> "waiting for " + what);
    }

    /** Asserts that the call fails with {@code errno}; returns the exception for more checks. */
    protected static DmaBufException assertErrno(Errno errno, Runnable call) {
        try {
            call.run();
        } catch (DmaBufException e) {
            if (e.errno() != errno) {
                throw new AssertionError("expected " + errno + " but got " + e.errno() + ": " + e.getMessage(), e);
            }
            return e;
        }
        throw new AssertionError("expected " + errno + ", but the call succeeded");
    }

    /**
     * Declares that this test expects ERROR log entries whose message, or the message of their exception,
     * matches {@code regex} ({@link java.util.regex.Matcher#find() find}, not a full match). Such entries do not
     * fail the test. Valid for the current test method only.
     */
    protected final void expectError(String regex) {
        errorLog.expect(regex);
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
