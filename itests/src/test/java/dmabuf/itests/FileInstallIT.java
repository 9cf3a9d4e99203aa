package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.ServiceReference;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.RuntimeDTO;

/**
 * Hot deployment with Apache FileInstall: the V4L2 exporter's jar and a factory configuration dropped into the
 * watched folder bring a capture device up; changing the {@code .cfg} reconfigures it without revoking the buffer
 * an importer holds; deleting both takes it down cleanly. The V4L2 bundle the framework started with is uninstalled
 * first (one bundle of a symbolic name and version at a time) and reinstalled at the end.
 */
public class FileInstallIT extends DmaBufTestSupport {
    private static final String V4L2 = "dmabuf.exporter.v4l2";
    private static final String DEVICE = "videoit";
    private static final String CAPTURE_DEVICE = "dmabuf.exporter.v4l2.api.CaptureDevice";

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

            awaitRuntime("the device's exporter listed", () -> listed(DEVICE));
            Device device = new Device(deviceService());
            assertEquals(30, device.call("fps"));

            DmaBufRegistry registry = awaitService(DmaBufRegistry.class, null, TIMEOUT);
            assertEquals(1, device.call("requestBuffers", 1));
            DmaBuf buf = registry.get((DmaBuf) device.call("exportBuffer", 0, DmaBufUapi.O_RDWR));
            MemorySegment view = registry.vmap(buf);
            view.set(ValueLayout.JAVA_INT, 0, 0xCAFE);

            writeConfig(cfg, 5); // FileInstall updates the configuration: the device applies it in place
            awaitRuntime("fps 5 applied", () -> Integer.valueOf(5).equals(device.call("fps")));
            RuntimeDTO dto = runtime().getRuntimeDTO();
            BufferDTO listed = Arrays.stream(dto.buffers).filter(b -> b.id == buf.id()).findFirst().orElseThrow();
            assertEquals("the reconfiguration revoked nothing", BufferDTO.STATE_LIVE, listed.state);
            assertEquals(0xCAFE, view.get(ValueLayout.JAVA_INT, 0));

            registry.vunmap(buf, view);
            registry.put(buf);
            assertEquals(0, device.call("requestBuffers", 0));

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

    /**
     * The capture device service of the hot-deployed bundle, used through reflection on its own CaptureDevice
     * interface: the probe must not wire to the API package of a bundle this test uninstalls (a later refresh of that
     * bundle would restart the probe), and other tests have wired it to the preinstalled bundle's package already.
     */
    private Object deviceService() {
        ServiceReference<?>[][] refs = new ServiceReference<?>[1][];
        awaitRuntime("the capture device service " + DEVICE, () -> {
            try {
                refs[0] = bundleContext.getAllServiceReferences(CAPTURE_DEVICE, "(dmabuf.v4l2.device=" + DEVICE + ")");
            } catch (org.osgi.framework.InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
            return refs[0] != null;
        });
        return bundleContext.getService(refs[0][0]);
    }

    /** Calls the CaptureDevice methods of a service object whose interface the probe does not import. */
    private record Device(Object service) {
        Object call(String method, Object... args) {
            try {
                Class<?> api = service.getClass().getClassLoader().loadClass(CAPTURE_DEVICE);
                for (Method m : api.getMethods()) {
                    if (m.getName().equals(method) && m.getParameterCount() == args.length) {
                        return m.invoke(service, args);
                    }
                }
                throw new AssertionError("no method " + method + " in " + CAPTURE_DEVICE);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r; // e.g. the device's DmaBufException
                }
                throw new AssertionError(e.getCause());
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
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
