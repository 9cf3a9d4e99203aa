package dmabuf.itests;

import static org.junit.Assert.assertEquals;

import java.util.Arrays;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;

import dmabuf.api.runtime.ExporterDTO;
import dmabuf.api.runtime.ImporterDTO;
import dmabuf.api.runtime.RuntimeDTO;

/**
 * Drivers find each other whatever order they start in (DS dynamic references on one side, the core's whiteboard
 * tracking on the other), and the runtime DTO lists them with their bundles. The last case starts both drivers
 * before the core: the exporter then exports the moment the registry appears, and the core must already know its
 * exporter service (it opens its whiteboard tracking before it publishes the registry).
 */
public class StartOrderIT extends ExampleStreamTestSupport {

    @Test
    public void importerFirstThenExporter() {
        configureExampleStream(1_000_000, 5);
        Bundle importer = startExampleImporter();
        Bundle exporter = startExampleExporter();
        assertStreamingAndListed(exporter, importer);
    }

    @Test
    public void exporterFirstThenImporter() {
        configureExampleStream(1_000_000, 5);
        Bundle exporter = startExampleExporter();
        Bundle importer = startExampleImporter();
        assertStreamingAndListed(exporter, importer);
    }

    @Test
    public void bothDriversBeforeTheCore() throws BundleException {
        configureExampleStream(1_000_000, 5);
        Bundle core = bundle(DmaBufOptions.CORE_BSN);
        core.stop();
        try {
            Bundle exporter = startExampleExporter();
            Bundle importer = startExampleImporter();
            assertEquals("no sink without the core", -1, sinkFrames());
            core.start();
            assertStreamingAndListed(exporter, importer);
        } finally {
            if (core.getState() != Bundle.ACTIVE) {
                core.start();
            }
        }
    }

    private void assertStreamingAndListed(Bundle exporter, Bundle importer) {
        awaitSinkFrames(0, 5);
        awaitRuntime("both drivers listed", () -> exporterNamed("example") != null && importerNamed("crc32") != null);
        assertEquals(exporter.getBundleId(), exporterNamed("example").bundleId);
        assertEquals(importer.getBundleId(), importerNamed("crc32").bundleId);
        assertEquals("running", producerState());
    }

    private ExporterDTO exporterNamed(String name) {
        RuntimeDTO dto = runtime().getRuntimeDTO();
        return Arrays.stream(dto.exporters).filter(e -> name.equals(e.name)).findFirst().orElse(null);
    }

    private ImporterDTO importerNamed(String name) {
        RuntimeDTO dto = runtime().getRuntimeDTO();
        return Arrays.stream(dto.importers).filter(e -> name.equals(e.name)).findFirst().orElse(null);
    }
}
