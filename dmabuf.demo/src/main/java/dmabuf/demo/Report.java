package dmabuf.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dmabuf.api.runtime.LeakDTO;
import dmabuf.pipeline.api.PipelineStatusDTO;

/** The demo's console lines, from the DTOs alone (pure functions, unit tested). */
final class Report {
    private Report() {
    }

    /** The progress line while frames stream. */
    static String progress(PipelineStatusDTO s) {
        return String.format(Locale.ROOT, "frames %d/%d  %.1f fps", s.framesDone, s.framesRequested,
                s.framesPerSecond);
    }

    /** The report of a finished run, one line per figure, each starting with "report:". */
    static List<String> run(PipelineStatusDTO s) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "report: %s: %d/%d frames %dx%d %s in %d ms, %.1f fps", s.state,
                s.framesDone, s.framesRequested, s.width, s.height, s.format, s.elapsedMillis, s.framesPerSecond));
        PipelineStatusDTO.StageDTO[] stages = s.stages == null ? new PipelineStatusDTO.StageDTO[0] : s.stages;
        for (PipelineStatusDTO.StageDTO st : stages) {
            lines.add(String.format(Locale.ROOT, "report: stage %-8s %-7s %6d frames, latency p50 %.0f us, p99 %.0f us%s",
                    st.name, st.device, st.frames, st.latencyP50Micros, st.latencyP99Micros,
                    st.output == null ? "" : ", " + st.output));
        }
        // Stages are ordered by fences only, so they overlap: this is what the fences buy.
        lines.add(String.format(Locale.ROOT, "report: overlap %.2f stages in flight on average, %d ms with two or "
                + "more at once", s.meanStagesInFlight, s.overlappedMillis));
        lines.add("report: bytes copied " + s.bytesCopied);
        lines.add("report: live buffers " + s.liveBuffers + " (" + s.liveBytes + " bytes)");
        lines.add(s.lastFrameCrc < 0 ? "report: last frame crc none"
                : String.format("report: last frame crc 0x%08x (frame %d)", s.lastFrameCrc, s.lastFrameNumber));
        return lines;
    }

    /** The core's leak report after the drivers stopped: "none", or one line per leaked item. */
    static List<String> leaks(LeakDTO[] leaks, long liveBuffers) {
        List<String> lines = new ArrayList<>();
        LeakDTO[] all = leaks == null ? new LeakDTO[0] : leaks;
        lines.add("report: leaks " + (all.length == 0 ? "none" : all.length) + ", buffers still live "
                + liveBuffers);
        for (LeakDTO l : all) {
            lines.add("report: leak: " + l.kind + " held by " + l.bundleSymbolicName + " on buffer " + l.bufferId
                    + (l.bufferName == null ? "" : " '" + l.bufferName + "'") + " (exporter " + l.exporterName
                    + ")" + (l.detail == null ? "" : ": " + l.detail));
        }
        return lines;
    }
}
