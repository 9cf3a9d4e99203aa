package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.Version;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * The exporter bundle is updated to a new version while frames stream into the CRC-32 sink: the old exporter's
 * buffers are revoked, the new one starts producing, and the sink keeps receiving frames. Repeated
 * {@code -Ddmabuf.itest.updates} times (default 3) in one test; a frame exported before the new exporter's
 * whiteboard service was known to the core would log an ERROR and fail the test.
 */
public class ExporterUpdateIT extends ExampleStreamTestSupport {
    private static final int UPDATES = Integer.getInteger("dmabuf.itest.updates", 3);

    @Test
    public void theStreamRecoversAfterEachUpdateOfTheExporterBundle() throws Exception {
        configureExampleStream(1_000_000, 2);
        startExampleImporter();
        Bundle exporter = startExampleExporter();
        long frames = awaitSinkFrames(0, 3);
        Version original = exporter.getVersion();

        for (int i = 1; i <= UPDATES; i++) {
            Version next = new Version(original.getMajor(), original.getMinor(), original.getMicro(), "update" + i);
            exporter.update(new ByteArrayInputStream(withVersion(next)));
            refresh(exporter);
            assertEquals(next, exporter.getVersion());
            assertEquals("update " + i + ": the exporter runs again", Bundle.ACTIVE, exporter.getState());
            frames = awaitSinkFrames(frames, 5);
            assertEquals("update " + i + ": streaming", "running", producerState());
        }
        assertTrue(frames >= 3 + 5L * UPDATES);
    }

    /** The example exporter's jar with another Bundle-Version. */
    private static byte[] withVersion(Version version) throws IOException {
        return withVersion(DmaBufOptions.EXAMPLE_EXPORTER_BSN, version);
    }

    /** The built jar of the bundle {@code bsn} with another Bundle-Version (also used by PipelineUpdateIT). */
    static byte[] withVersion(String bsn, Version version) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarInputStream in = new JarInputStream(new FileInputStream(DmaBufOptions.bundleFile(bsn)))) {
            Manifest manifest = new Manifest(in.getManifest());
            manifest.getMainAttributes().putValue("Bundle-Version", version.toString());
            try (JarOutputStream jar = new JarOutputStream(out, manifest)) {
                for (JarEntry e = in.getNextJarEntry(); e != null; e = in.getNextJarEntry()) {
                    jar.putNextEntry(new JarEntry(e.getName()));
                    in.transferTo(jar);
                    jar.closeEntry();
                }
            }
        }
        return out.toByteArray();
    }

    /** Refreshes the bundle's wiring (the old revision goes) and waits for the framework to finish. */
    private void refresh(Bundle bundle) throws InterruptedException, BundleException {
        CountDownLatch done = new CountDownLatch(1);
        FrameworkWiring wiring = bundleContext.getBundle(0).adapt(FrameworkWiring.class);
        wiring.refreshBundles(List.of(bundle), event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED) {
                done.countDown();
            }
        });
        if (!done.await(TIMEOUT, TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the refresh of " + bundle.getSymbolicName() + " did not end within " + TIMEOUT
                    + " ms");
        }
    }
}
