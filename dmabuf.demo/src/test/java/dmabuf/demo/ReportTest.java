package dmabuf.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

import dmabuf.api.runtime.LeakDTO;
import dmabuf.pipeline.api.PipelineStatusDTO;

class ReportTest {

    private static PipelineStatusDTO completed() {
        PipelineStatusDTO s = new PipelineStatusDTO();
        s.state = PipelineStatusDTO.COMPLETED;
        s.width = 640;
        s.height = 480;
        s.format = "NV12";
        s.framesRequested = 120;
        s.framesDone = 120;
        s.framesPerSecond = 59.94;
        s.elapsedMillis = 2002;
        s.liveBuffers = 7;
        s.liveBytes = 5_500_000;
        s.lastFrameCrc = 0x0a368ce3L;
        s.lastFrameNumber = 119;
        s.meanStagesInFlight = 1.456;
        s.overlappedMillis = 812;
        PipelineStatusDTO.StageDTO render = new PipelineStatusDTO.StageDTO();
        render.name = "render";
        render.device = "render0";
        render.frames = 120;
        render.latencyP50Micros = 1234.4;
        render.latencyP99Micros = 5678.5;
        render.output = "sepia, NV12 -> XRGB8888";
        s.stages = new PipelineStatusDTO.StageDTO[] {render};
        return s;
    }

    @Test
    void progressLine() {
        PipelineStatusDTO s = completed();
        s.framesDone = 37;
        s.framesPerSecond = 29.96;
        assertEquals("frames 37/120  30.0 fps", Report.progress(s));
    }

    @Test
    void runReportHasOneLinePerFigure() {
        assertEquals(List.of(
                "report: COMPLETED: 120/120 frames 640x480 NV12 in 2002 ms, 59.9 fps",
                "report: stage render   render0    120 frames, latency p50 1234 us, p99 5679 us, sepia, NV12 -> XRGB8888",
                "report: overlap 1.46 stages in flight on average, 812 ms with two or more at once",
                "report: bytes copied 0",
                "report: live buffers 7 (5500000 bytes)",
                "report: last frame crc 0x0a368ce3 (frame 119)"), Report.run(completed()));
    }

    @Test
    void aFailedRunWithoutStagesOrFrames() {
        PipelineStatusDTO s = new PipelineStatusDTO();
        s.state = PipelineStatusDTO.FAILED;
        s.format = "NV12";
        s.framesRequested = 5;
        s.lastFrameCrc = -1;
        List<String> lines = Report.run(s);
        assertEquals("report: FAILED: 0/5 frames 0x0 NV12 in 0 ms, 0.0 fps", lines.get(0));
        assertEquals("report: last frame crc none", lines.get(lines.size() - 1));
    }

    @Test
    void leakReportIsNoneOrOneLinePerItem() {
        assertEquals(List.of("report: leaks none, buffers still live 0"), Report.leaks(null, 0));
        assertEquals(List.of("report: leaks none, buffers still live 0"), Report.leaks(new LeakDTO[0], 0));
        LeakDTO l = new LeakDTO();
        l.kind = LeakDTO.KIND_ATTACHMENT;
        l.bundleSymbolicName = "dmabuf.importer.gpu";
        l.bufferId = 42;
        l.bufferName = "frame-3";
        l.exporterName = "video0";
        l.detail = "device render0";
        assertEquals(List.of("report: leaks 1, buffers still live 2",
                "report: leak: attachment held by dmabuf.importer.gpu on buffer 42 'frame-3' (exporter video0): device"
                        + " render0"), Report.leaks(new LeakDTO[] {l}, 2));
    }

    @Test
    void driversStopInPipelineImporterExporterHeapMemoryOrder() {
        assertEquals(0, Demo.rank("dmabuf.pipeline"));
        assertEquals(1, Demo.rank("dmabuf.importer.gpu"));
        assertEquals(2, Demo.rank("dmabuf.exporter.v4l2"));
        assertEquals(3, Demo.rank("dmabuf.heap"));
        assertEquals(4, Demo.rank("dmabuf.memory"));
        for (String stays : new String[] {"dmabuf.api", "dmabuf.core", "dmabuf.shell", "dmabuf.demo",
                "org.apache.felix.scr", null}) {
            assertEquals(-1, Demo.rank(stays), stays);
        }
    }
}
