package dmabuf.bench;

import dmabuf.api.DmaBufRegistry;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;
import dmabuf.core.client.Client;

/**
 * A dma-buf core without a framework, as the core's own tests make it, with the three bundles of a camera -> GPU ->
 * display chain: "camera" exports, "gpu" and "display" import. Every call goes through the registry each bundle
 * would get from the OSGi service factory (the bundle door included), so the figures are what a driver pays.
 */
final class CoreRig implements AutoCloseable {
    final DmaBufCore core;
    final Client cameraClient;
    final Client gpuClient;
    final Client displayClient;
    final DmaBufRegistry camera;
    final DmaBufRegistry gpu;
    final DmaBufRegistry display;

    CoreRig() {
        this(CoreConfig.DEFAULTS);
    }

    CoreRig(CoreConfig config) {
        core = new DmaBufCore(config, new QuietLog(), () -> {
        });
        cameraClient = core.openClient(10, "camera.driver");
        gpuClient = core.openClient(20, "gpu.driver");
        displayClient = core.openClient(30, "display.driver");
        camera = core.registryFor(cameraClient);
        gpu = core.registryFor(gpuClient);
        display = core.registryFor(displayClient);
    }

    /** Revokes and releases every buffer still alive (their exporters' release runs). */
    @Override
    public void close() {
        core.shutdown();
    }

    /**
     * The core's log. Warnings are dropped: a rig's teardown leaves its buffers to {@link #close()} on purpose, and
     * the core reports each as a leak. Errors (a driver broke its contract) still reach stderr.
     */
    static final class QuietLog implements CoreLog {
        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
        }

        @Override
        public void error(String message, Throwable cause) {
            System.err.println("core ERROR: " + message + ": " + cause);
        }

        @Override
        public void debug(String message) {
        }
    }
}
