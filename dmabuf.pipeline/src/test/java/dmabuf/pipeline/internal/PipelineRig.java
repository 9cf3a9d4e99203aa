package dmabuf.pipeline.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;
import dmabuf.core.client.Client;
import dmabuf.core.drivers.DriverTracker;
import dmabuf.exporter.gpu.TestGpuExporters;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.scanout.TestScanouts;
import dmabuf.exporter.scanout.api.DumbBufferDevice;
import dmabuf.exporter.v4l2.TestCameras;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.importer.display.TestDisplays;
import dmabuf.importer.display.api.Display;
import dmabuf.importer.display.api.Framebuffer;
import dmabuf.importer.display.api.ScanoutResult;
import dmabuf.importer.encoder.TestEncoders;
import dmabuf.importer.gpu.TestGpus;
import dmabuf.memory.BundleMemory;
import dmabuf.memory.MemoryConfig;
import dmabuf.memory.MemoryEngine;
import dmabuf.memory.MemoryLog;

/**
 * A real core and memory engine without a framework; the camera "video0", the scanout device "card0" and the GPU "gpu0" in their own
 * bundles, the three importers in theirs, and the pipeline (bundle {@value #PIPELINE_BUNDLE}) wired to them as its
 * DS component would be. The display records every CRC it reports. Each test makes its own and closes it.
 */
final class PipelineRig implements AutoCloseable {
    static final long PIPELINE_BUNDLE = 30;
    static final long MB = 1L << 20;
    private static final Map<Long, String> BUNDLES = Map.of(10L, "dmabuf.exporter.v4l2", 11L,
            "dmabuf.exporter.scanout", 20L, "dmabuf.importer.gpu", 21L, "dmabuf.importer.display", 22L,
            "dmabuf.importer.encoder", 12L, "dmabuf.exporter.gpu", PIPELINE_BUNDLE, "dmabuf.pipeline");

    final List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    final MemoryEngine memory;
    final DmaBufCore core;
    /** The camera "video0"; a new one after {@link #replugCamera}, null while unplugged. */
    volatile CaptureDevice camera;
    private volatile Client cameraClient;
    private volatile BundleMemory cameraMemory;
    private long nextServiceId = 100;
    private long serviceIdOfCamera = 1;
    final DumbBufferDevice scanout;
    final Gpu gpuExporter;
    final Display realDisplay;
    final RecordingDisplay display;
    final PipelineEngine pipeline;

    /** A rig whose display reaches {@code displayMaskBits} address bits. */
    PipelineRig(PipelineSettings settings, int displayMaskBits) {
        Log log = new Log();
        memory = new MemoryEngine(MemoryConfig.DEFAULTS, log, BUNDLES::get);
        core = new DmaBufCore(CoreConfig.DEFAULTS, log, () -> {
        });
        plugCamera(1);
        scanout = TestScanouts.create("card0", registry(11), memory.openBundle(11, BUNDLES.get(11L)), 64 * MB, 4096);
        core.drivers().add(DriverTracker.Kind.EXPORTER, 2, 11,
                Map.of(DmaBufExporter.NAME, "card0", DmaBufExporter.DEVICE, "card0"));
        gpuExporter = TestGpuExporters.create(registry(12), memory.openBundle(12, BUNDLES.get(12L)));
        core.drivers().add(DriverTracker.Kind.EXPORTER, 3, 12,
                Map.of(DmaBufExporter.NAME, "gpu0", DmaBufExporter.DEVICE, "gpu0"));
        realDisplay = TestDisplays.create(registry(21), displayMaskBits);
        display = new RecordingDisplay(realDisplay);
        pipeline = new PipelineEngine(new Stages(registry(PIPELINE_BUNDLE),
                name -> name.equals("video0") ? camera : null, // null while unplugged
                name -> name.equals("card0") ? scanout : null,
                name -> name.equals("gpu0") ? gpuExporter : null,
                TestGpus.create(registry(20)), display, TestEncoders.create(registry(22)),
                () -> core.snapshots().runtimeDTO()), settings);
    }

    PipelineRig(PipelineSettings settings) {
        this(settings, 32);
    }

    /** A camera "video0" in bundle 10, as its bundle's start would bring it. */
    private void plugCamera(long serviceId) {
        plugCameraDevice();
        registerCameraExporter(serviceId);
    }

    private void plugCameraDevice() {
        cameraClient = core.openClient(10, BUNDLES.get(10L));
        cameraMemory = memory.openBundle(10, BUNDLES.get(10L));
        camera = TestCameras.create("video0", core.registryFor(cameraClient), cameraMemory, 64 * MB);
    }

    /** The core learns of the camera bundle's exporter (its whiteboard service): until then it refuses exports. */
    private void registerCameraExporter(long serviceId) {
        core.drivers().add(DriverTracker.Kind.EXPORTER, serviceId, 10,
                Map.of(DmaBufExporter.NAME, "video0", DmaBufExporter.DEVICE, "video0"));
    }

    /**
     * The camera's bundle started again but the core does not know its exporter yet (the services come up in any
     * order): the camera is there and the pipeline is told, but its exports fail with EINVAL until
     * {@link #registerReplugged}, of which the pipeline is not told.
     */
    void replugCameraDeviceOnly() {
        serviceIdOfCamera = nextServiceId++;
        plugCameraDevice();
        pipeline.devicesChanged();
    }

    void registerReplugged() {
        registerCameraExporter(serviceIdOfCamera);
    }

    /**
     * What stopping the camera's bundle (as an update does) does: the pipeline's reference goes (it is told), the
     * device closes, and the core revokes what the bundle exported.
     */
    void unplugCamera() {
        CaptureDevice gone = camera;
        camera = null;
        pipeline.devicesChanged();
        TestCameras.close(gone);
        core.drivers().remove(DriverTracker.Kind.EXPORTER, serviceIdOfCamera);
        core.closeClient(cameraClient);
        memory.closeBundle(cameraMemory);
    }

    /** The camera's bundle started again: a new "video0" whose frames count from 0 again. */
    void replugCamera() {
        serviceIdOfCamera = nextServiceId++;
        plugCamera(serviceIdOfCamera);
        pipeline.devicesChanged();
    }

    private DmaBufRegistry registry(long bundle) {
        return core.registryFor(core.openClient(bundle, BUNDLES.get(bundle)));
    }

    /** What the pipeline's bundle holds, per the core. */
    ClientDTO pipelineClient() {
        for (ClientDTO c : core.snapshots().runtimeDTO().clients) {
            if (c.bundleId == PIPELINE_BUNDLE) {
                return c;
            }
        }
        throw new AssertionError("no client for the pipeline bundle");
    }

    @Override
    public void close() {
        pipeline.stop();
        TestDisplays.deactivate(realDisplay);
        if (camera != null) {
            TestCameras.close(camera);
        }
        TestScanouts.shutdown(scanout);
        TestGpuExporters.close(gpuExporter);
        core.shutdown();
        memory.shutdown();
    }

    /** The display, recording each flip's CRC in order. */
    static final class RecordingDisplay implements Display {
        private final Display delegate;
        final List<Long> crcs = new ArrayList<>();
        /** The flip (counting from 0) that fails with EIO, as a broken display would; -1 for none. */
        volatile int failAtFlip = -1;
        /** The flip (counting from 0) that waits (bounded) for {@link #resume} before it runs; -1 for none. */
        volatile int pauseAtFlip = -1;
        final java.util.concurrent.CountDownLatch paused = new java.util.concurrent.CountDownLatch(1);
        final java.util.concurrent.CountDownLatch resume = new java.util.concurrent.CountDownLatch(1);

        RecordingDisplay(Display delegate) {
            this.delegate = delegate;
        }

        @Override
        public Device device() {
            return delegate.device();
        }

        @Override
        public void check(DmaBuf fb, Framebuffer layout) {
            delegate.check(fb, layout);
        }

        @Override
        public ScanoutResult pageFlip(DmaBuf fb, Framebuffer layout) {
            boolean pause;
            synchronized (crcs) {
                pause = crcs.size() == pauseAtFlip;
            }
            if (pause) {
                pauseAtFlip = -1;
                paused.countDown();
                try {
                    if (!resume.await(30, java.util.concurrent.TimeUnit.SECONDS)) {
                        throw new AssertionError("the test never resumed the display");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            synchronized (crcs) {
                if (crcs.size() == failAtFlip) {
                    throw new dmabuf.api.DmaBufException(dmabuf.api.Errno.EIO, "crtc underrun at flip " + failAtFlip);
                }
            }
            ScanoutResult r = delegate.pageFlip(fb, layout);
            synchronized (crcs) {
                crcs.add(r.crc());
            }
            return r;
        }

        List<Long> crcs() {
            synchronized (crcs) {
                return List.copyOf(crcs);
            }
        }

        @Override
        public void writeSnapshot(Path png) {
            delegate.writeSnapshot(png);
        }

        @Override
        public void disable() {
            delegate.disable();
        }

        @Override
        public long flips() {
            return delegate.flips();
        }
    }

    /** Keeps warnings (leak reports land there), drops the rest. */
    private final class Log implements CoreLog, MemoryLog {
        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
            warnings.add(message);
        }

        @Override
        public void error(String message, Throwable cause) {
            warnings.add(message);
        }

        @Override
        public void debug(String message) {
        }
    }
}
