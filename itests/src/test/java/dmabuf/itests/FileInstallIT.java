package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.exporter.v4l2.api.CaptureDevice;

/**
 * Hot deployment with Apache FileInstall: the V4L2 exporter's jar and a factory configuration dropped into the
 * watched folder bring a capture device up; changing the {@code .cfg} reconfigures it without revoking the buffer
 * an importer holds; deleting both takes it down cleanly. The V4L2 bundle the framework started with is uninstalled
 * first (one bundle of a symbolic name and version at a time) and reinstalled at the end.
 */
public class FileInstallIT extends DmaBufTestSupport {
    private static final String V4L2 = "dmabuf.exporter.v4l2";
    private static final String DEVICE = "videoit";

    @Test
    public void dropChangeAndDeleteAnExporterJarAndItsConfiguration() throws Exception {
        Bundle preinstalled = bundle(V4L2);
        String location = preinstalled.getLocation();
        preinstalled.uninstall();
        File deploy = DmaBufOptions.deployDir();
        File jar = new File(deploy, V4L2 + ".jar");
        File cfg = new File(deploy, V4L2 + "-it.cfg");
        try {
            writeConfig(cfg, 30);
            Files.copy(DmaBufOptions.bundleFile(V4L2).toPath(), jar.toPath(), StandardCopyOption.REPLACE_EXISTING);

            // The bundle first, by name: the probe loads the CaptureDevice class only once FileInstall has started
            // the new bundle, so it wires to that bundle's API package.
            awaitRuntime("FileInstall started " + V4L2, () -> Arrays.stream(bundleContext.getBundles())
                    .anyMatch(b -> V4L2.equals(b.getSymbolicName()) && b.getState() == Bundle.ACTIVE));
            CaptureDevice device = awaitService(CaptureDevice.class, "(" + CaptureDevice.DEVICE_NAME + "=" + DEVICE
                    + ")", TIMEOUT);
            awaitRuntime("the device's exporter listed", () -> listed(DEVICE));
            assertEquals(30, device.fps());

            DmaBufRegistry registry = awaitService(DmaBufRegistry.class, null, TIMEOUT);
            assertEquals(1, device.requestBuffers(1));
            DmaBuf buf = registry.get(device.exportBuffer(0, DmaBufUapi.O_RDWR));
            MemorySegment view = registry.vmap(buf);
            view.set(ValueLayout.JAVA_INT, 0, 0xCAFE);

            writeConfig(cfg, 5); // FileInstall updates the configuration: the device applies it in place
            awaitCondition(CaptureDevice.class, () -> device.fps() == 5, TIMEOUT, () -> "fps 5 applied");
            RuntimeDTO dto = runtime().getRuntimeDTO();
            BufferDTO listed = Arrays.stream(dto.buffers).filter(b -> b.id == buf.id()).findFirst().orElseThrow();
            assertEquals("the reconfiguration revoked nothing", BufferDTO.STATE_LIVE, listed.state);
            assertEquals(0xCAFE, view.get(ValueLayout.JAVA_INT, 0));

            registry.vunmap(buf, view);
            registry.put(buf);
            assertEquals(0, device.requestBuffers(0));

            Files.delete(cfg.toPath());
            Files.delete(jar.toPath());
            awaitRuntime("the device gone", () -> !listed(DEVICE) && bundles(V4L2) == 0);
        } finally {
            Files.deleteIfExists(cfg.toPath());
            Files.deleteIfExists(jar.toPath());
            awaitRuntime("FileInstall removed its bundle", () -> bundles(V4L2) == 0);
            reinstall(location);
        }
    }

    private void reinstall(String location) throws BundleException {
        bundleContext.installBundle(location).start();
        assertNotNull(bundle(V4L2));
    }

    private boolean listed(String exporter) {
        return Arrays.stream(runtime().getRuntimeDTO().exporters).anyMatch(e -> exporter.equals(e.name));
    }

    private long bundles(String bsn) {
        return Arrays.stream(bundleContext.getBundles()).filter(b -> bsn.equals(b.getSymbolicName())).count();
    }

    /** Writes the .cfg in one step (a temporary file moved in place), so FileInstall never reads half of it. */
    private static void writeConfig(File cfg, int fps) throws IOException {
        File tmp = new File(cfg.getParentFile().getParentFile(), cfg.getName() + ".tmp");
        Files.writeString(tmp.toPath(), "name = " + DEVICE + "\nmemory.mb = 8\nwidth = 64\nheight = 32\nfps = " + fps
                + "\n");
        Files.move(tmp.toPath(), cfg.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
