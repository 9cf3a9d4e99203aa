package dmabuf.itests;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;

import org.junit.After;
import org.osgi.framework.Bundle;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import dmabuf.api.runtime.DmaBufRuntime;

/**
 * Base of the tests that stream with the example driver pair (the pattern exporter and the CRC-32 sink), which the
 * framework holds in target/bundles but does not install: the test installs them, configures the stream, and
 * watches it through the drivers' status services (by class name: the probe needs none of their classes).
 */
public abstract class ExampleStreamTestSupport extends DmaBufTestSupport {
    private final List<Configuration> configurations = new ArrayList<>();

    /** Uninstalls the drivers before their configuration goes, so they never restart on the defaults. */
    @After
    public final void deleteConfigurations() throws IOException {
        uninstallInstalled();
        for (Configuration c : configurations) {
            c.delete();
        }
        configurations.clear();
    }

    /**
     * Configures the example exporter (PID dmabuf.exporter.example, any bundle location) for a stream of small
     * frames, {@code intervalMs} apart; the configuration is deleted after the test.
     */
    protected final void configureExampleStream(int frames, long intervalMs) {
        ConfigurationAdmin admin =
            awaitService(ConfigurationAdmin.class, null, TIMEOUT);
        try {
            Configuration c = admin.getConfiguration(DmaBufOptions.EXAMPLE_EXPORTER_BSN, "?");
            Hashtable<String, Object> props = new Hashtable<>();
            props.put("frames", frames);
            props.put("width", 64);
            props.put("height", 32);
            props.put("interval.ms", intervalMs);
            props.put("pool.size", 3);
            c.update(props);
            configurations.add(c);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Installs and starts the example exporter (the pattern source) from target/bundles. */
    protected final Bundle startExampleExporter() {
        return installAndStart(DmaBufOptions.bundleFile(DmaBufOptions.EXAMPLE_EXPORTER_BSN));
    }

    /** Installs and starts the example importer (the CRC-32 sink) from target/bundles. */
    protected final Bundle startExampleImporter() {
        return installAndStart(DmaBufOptions.bundleFile(DmaBufOptions.EXAMPLE_IMPORTER_BSN));
    }

    /** Frames the CRC-32 sink has checked so far (a property of its SinkStatus service), or -1 without one. */
    protected final long sinkFrames() {
        Object frames = statusProperty("dmabuf.importer.example.SinkStatus", "frames");
        return frames instanceof Long n ? n : -1;
    }

    /** The example exporter's stream state (running, done, failed, stopped), or null without one. */
    protected final String producerState() {
        return (String) statusProperty("dmabuf.exporter.example.ProducerStatus", "state");
    }

    /** Waits until the sink has checked {@code more} frames beyond {@code from}; returns the count then. */
    protected final long awaitSinkFrames(long from, long more) {
        long[] now = new long[1];
        awaitCondition(DmaBufRuntime.class, () -> (now[0] = sinkFrames()) >= from + more, TIMEOUT,
            () -> "the sink checked " + now[0] + " frame(s), waiting for " + (from + more) + "; producer "
                + producerState() + ", " + statusProperty("dmabuf.exporter.example.ProducerStatus", "failure"));
        return now[0];
    }

    private Object statusProperty(String objectClass, String key) {
        try {
            ServiceReference<?>[] refs = bundleContext.getAllServiceReferences(objectClass, null);
            return refs == null ? null : refs[0].getProperty(key);
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
