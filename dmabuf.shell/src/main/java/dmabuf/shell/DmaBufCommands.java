package dmabuf.shell;

import org.apache.felix.service.command.Descriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dmabuf.api.DmaBufException;
import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.pipeline.api.Pipeline;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * The Gogo commands of scope {@code dmabuf}: what the core tracks (from {@link DmaBufRuntime}'s DTOs) and the
 * pipeline. Each command returns its console text; the formatting is {@link Formats}'.
 */
// Gogo finds commands by their osgi.command.* properties; the object class does not matter, so none is exported.
@Component(service = Object.class, property = {
        "osgi.command.scope=dmabuf",
        "osgi.command.function=list", "osgi.command.function=info", "osgi.command.function=exporters",
        "osgi.command.function=importers", "osgi.command.function=heaps", "osgi.command.function=stats",
        "osgi.command.function=leaks", "osgi.command.function=pipeline"})
public final class DmaBufCommands {
    private final DmaBufRuntime runtime;

    // Optional and dynamic: the pipeline comes and goes with its stages; the other commands work without it.
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    private volatile Pipeline pipeline;

    @Activate
    public DmaBufCommands(@Reference(name = "runtime") DmaBufRuntime runtime) {
        this.runtime = runtime;
    }

    @Descriptor("list the buffers not yet released: the kernel's bufinfo table (id, size, flags, mode, references,"
            + " exporter, name, vmaps, state, attached devices)")
    public String list() {
        return Formats.buffers(runtime.getRuntimeDTO());
    }

    @Descriptor("show one buffer: its bufinfo columns and its attachments")
    public String info(@Descriptor("the buffer's id (the first column of dmabuf:list)") long id) {
        return Formats.buffer(runtime.getRuntimeDTO(), id);
    }

    @Descriptor("list the exporter drivers the core accepted (with their live buffers) and the ones it rejected")
    public String exporters() {
        return Formats.exporters(runtime.getRuntimeDTO());
    }

    @Descriptor("list the importer drivers the core accepted and the ones it rejected")
    public String importers() {
        return Formats.importers(runtime.getRuntimeDTO());
    }

    @Descriptor("list the registered dma-heaps")
    public String heaps() {
        return Formats.heaps(runtime.getRuntimeDTO());
    }

    @Descriptor("show the accounting: live and peak bytes, buffers exported and released, leaks, and what each"
            + " bundle holds")
    public String stats() {
        return Formats.stats(runtime.getRuntimeDTO());
    }

    @Descriptor("show the core's recent leak reports: what bundles still held when they went away")
    public String leaks() {
        return Formats.leaks(runtime.getRuntimeDTO());
    }

    @Descriptor("control the camera -> GPU -> display pipeline: start (until stopped), stop, status")
    public String pipeline(@Descriptor("start, stop or status") String action) {
        return pipeline(action, 0);
    }

    @Descriptor("start the pipeline for a number of frames (0 = until stopped)")
    public String pipeline(@Descriptor("start") String action,
            @Descriptor("how many frames to stream, 0 for until stopped") long frames) {
        Pipeline p = pipeline;
        if (p == null) {
            return "no pipeline service: one of its stages (camera, GPU, display, encoder) or its configuration is"
                    + " missing; see scr:list and dmabuf:exporters\n";
        }
        return switch (action) {
            case "start" -> start(p, frames);
            case "stop" -> Formats.pipeline(p.stop());
            case "status" -> Formats.pipeline(p.status());
            default -> "unknown action '" + action + "': use start [frames], stop or status\n";
        };
    }

    private static String start(Pipeline p, long frames) {
        if (frames < 0) {
            return "frames must be 0 (until stopped) or more, not " + frames + "\n";
        }
        try {
            p.start(frames);
        } catch (DmaBufException e) {
            return "the pipeline did not start: " + e.getMessage() + "\n";
        }
        PipelineStatusDTO status = p.status();
        return "started" + (frames == 0 ? " (until dmabuf:pipeline stop)" : " for " + frames + " frame(s)") + "\n"
                + Formats.pipeline(status);
    }
}
