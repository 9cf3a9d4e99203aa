package dmabuf.pipeline.internal;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import dmabuf.api.DmaBufRegistry;
import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.scanout.api.DumbBufferDevice;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.importer.display.api.Display;
import dmabuf.importer.encoder.api.Encoder;
import dmabuf.importer.gpu.api.ColourRenderer;
import dmabuf.pipeline.api.Pipeline;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * The pipeline as a DS component. The importers are static mandatory references: the service exists while they do.
 * Cameras, scanout devices and GPUs are factory-configured and named, so they are dynamic references chosen by name when a
 * run starts; a missing one is ENODEV naming it, and one that goes away during a run is waited for (see
 * {@link RecoveringRun}). Deactivation stops the run and gives everything back.
 */
@Component(name = PipelineComponent.PID, configurationPid = PipelineComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = Pipeline.class)
@Designate(ocd = PipelineConfig.class)
public final class PipelineComponent implements Pipeline {
    /** The configuration PID and component name. */
    public static final String PID = "dmabuf.pipeline";

    // Dynamic: devices come and go while the pipeline stays. Bind methods, not fields: a run waiting for a device
    // that went away (an exporter bundle being updated) is told when one comes.
    private final List<CaptureDevice> cameras = new CopyOnWriteArrayList<>();
    private final List<DumbBufferDevice> scanouts = new CopyOnWriteArrayList<>();
    private final List<Gpu> gpuExporters = new CopyOnWriteArrayList<>();

    @Reference(service = DmaBufRuntime.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile DmaBufRuntime runtime;

    private final PipelineEngine engine;
    private final Logger logger;

    /**
     * @param config   the pipeline's configuration
     * @param registry this bundle's dma-buf registry
     * @param gpu      the GPU importer
     * @param display  the display importer
     * @param encoder  the encoder importer
     * @param logger   this component's logger
     */
    @Activate
    public PipelineComponent(PipelineConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "gpu") ColourRenderer gpu,
            @Reference(name = "display") Display display,
            @Reference(name = "encoder") Encoder encoder,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        this.logger = logger;
        this.engine = new PipelineEngine(new Stages(registry,
                name -> find(cameras, name, CaptureDevice::name),
                name -> find(scanouts, name, DumbBufferDevice::name),
                name -> find(gpuExporters, name, Gpu::name),
                gpu, display, encoder,
                () -> {
                    DmaBufRuntime r = runtime;
                    return r == null ? null : r.getRuntimeDTO();
                }), PipelineSettings.from(config));
    }

    private static <T> T find(List<T> devices, String name, java.util.function.Function<T, String> nameOf) {
        if (devices != null) {
            for (T d : devices) {
                if (name.equals(nameOf.apply(d))) {
                    return d;
                }
            }
        }
        return null;
    }

    @Reference(name = "cameras", service = CaptureDevice.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "removeCamera")
    void addCamera(CaptureDevice camera) {
        cameras.add(camera);
        engine.devicesChanged();
    }

    void removeCamera(CaptureDevice camera) {
        cameras.remove(camera);
        engine.devicesChanged();
    }

    @Reference(name = "scanouts", service = DumbBufferDevice.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "removeScanout")
    void addScanout(DumbBufferDevice scanout) {
        scanouts.add(scanout);
        engine.devicesChanged();
    }

    void removeScanout(DumbBufferDevice scanout) {
        scanouts.remove(scanout);
        engine.devicesChanged();
    }

    @Reference(name = "gpuExporters", service = Gpu.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "removeGpu")
    void addGpu(Gpu gpu) {
        gpuExporters.add(gpu);
        engine.devicesChanged();
    }

    void removeGpu(Gpu gpu) {
        gpuExporters.remove(gpu);
        engine.devicesChanged();
    }

    /** New settings apply to the next run; an invalid change is logged and ignored. */
    @Modified
    void modified(PipelineConfig config) {
        try {
            engine.configure(PipelineSettings.from(config));
        } catch (IllegalArgumentException e) {
            logger.error("configuration {} ignored: {}", PID, e.getMessage());
        }
    }

    /** Stops the run (bounded) and gives every buffer back. */
    @Deactivate
    void deactivate() {
        engine.stop();
    }

    @Override
    public void start(long frames) {
        engine.start(frames);
        PipelineSettings s = engine.settings();
        logger.info("pipeline started: {} {}x{}, camera {}, framebuffers on {}, {} frames", s.format().fourcc(),
                s.width(), s.height(), s.camera(), s.framebufferDevice(), frames == 0 ? "until stopped" : frames);
    }

    @Override
    public PipelineStatusDTO stop() {
        return engine.stop();
    }

    @Override
    public PipelineStatusDTO status() {
        return engine.status();
    }

    @Override
    public PipelineStatusDTO awaitCompletion(Duration timeout) throws InterruptedException {
        return engine.awaitCompletion(timeout);
    }
}
