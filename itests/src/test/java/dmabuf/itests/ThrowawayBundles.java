package dmabuf.itests;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;

import org.ops4j.pax.tinybundles.TinyBundles;

/**
 * Throwaway bundles a test installs, stops, updates and uninstalls to play a driver: an exporter, an importer, or
 * two unrelated bundles. They hold no classes; the test acts as the bundle through its {@code BundleContext} (it
 * gets the bundle-scoped registry and registers the driver services with it), so everything the core does is
 * attributed to that bundle, and stopping it is the driver's death.
 *
 * <p>Built on the test JVM side (from {@link DmaBufTestSupport#configuration()}) with TinyBundles, into
 * {@code target/paxexam/throwaway}; the tests install them from there by {@link #file(String)}.
 */
public final class ThrowawayBundles {
    /** A driver that exports buffers and registers a DmaBufExporter service. */
    public static final String EXPORTER = "dmabuf.it.exporter";
    /** A driver that imports buffers (attaches, maps, vmaps, mmaps) and may leak them. */
    public static final String IMPORTER = "dmabuf.it.importer";
    /** Two unrelated bundles for the fd isolation test. */
    public static final String BUNDLE_A = "dmabuf.it.a";
    public static final String BUNDLE_B = "dmabuf.it.b";

    private static final String[] ALL = {EXPORTER, IMPORTER, BUNDLE_A, BUNDLE_B};

    private ThrowawayBundles() {
    }

    /** The jar of the throwaway bundle {@code bsn} at version 1.0.0. */
    public static File file(String bsn) {
        return file(bsn, "1.0.0");
    }

    /** The jar of the throwaway bundle {@code bsn} at {@code version} (1.0.0 and 2.0.0 are built). */
    public static File file(String bsn, String version) {
        return new File(new File(DmaBufOptions.workDir(), "throwaway"), bsn + "-" + version + ".jar");
    }

    /** Writes every throwaway bundle, in both versions. Runs on the test JVM side. */
    static void buildAll() {
        for (String bsn : ALL) {
            for (String version : new String[] {"1.0.0", "2.0.0"}) {
                write(bsn, version);
            }
        }
    }

    private static void write(String bsn, String version) {
        File jar = file(bsn, version);
        jar.getParentFile().mkdirs();
        try (InputStream in = TinyBundles.bundle()
                .setHeader("Bundle-ManifestVersion", "2")
                .symbolicName(bsn)
                .setHeader("Bundle-Version", version)
                .setHeader("Bundle-Name", "dma-buf integration test driver " + bsn)
                .build(TinyBundles.rawBuilder())) {
            Files.copy(in, jar.toPath(), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the throwaway bundle " + jar, e);
        }
    }
}
