package dmabuf.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import dmabuf.api.runtime.AttachmentDTO;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.api.runtime.ExporterDTO;
import dmabuf.api.runtime.FailedDriverDTO;
import dmabuf.api.runtime.HeapDTO;
import dmabuf.api.runtime.LeakDTO;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.pipeline.api.PipelineStatusDTO;

class FormatsTest {

    private static BufferDTO buffer(long id, long size, String exporter, String name, String... devices) {
        BufferDTO b = new BufferDTO();
        b.id = id;
        b.size = size;
        b.flags = 02;
        b.mode = 03;
        b.count = 2;
        b.exporterName = exporter;
        b.exporterBundleId = 7;
        b.name = name;
        b.attachedDevices = devices;
        b.vmapCount = 1;
        b.state = BufferDTO.STATE_LIVE;
        return b;
    }

    private static RuntimeDTO runtime() {
        RuntimeDTO rt = new RuntimeDTO();
        rt.buffers = new BufferDTO[] {buffer(3, 1_228_800, "video0", "frame-3", "gpu0", "card0"),
                buffer(12, 4096, "system", null)};
        rt.totalBuffers = 2;
        rt.totalBytes = 1_228_800 + 4096;
        rt.exportedBuffers = 40;
        rt.releasedBuffers = 38;
        rt.peakBytes = 5 << 20;
        return rt;
    }

    @Test
    void listIsTheBufinfoTableWithAlignedColumnsAndTotals() {
        List<String> lines = Formats.buffers(runtime()).lines().toList();
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).matches("\\s*id\\s+size\\s+flags\\s+mode\\s+count\\s+exporter.*attached devices"),
                lines.get(0));
        assertTrue(lines.get(1).matches("\\s*3\\s+1228800\\s+00000002\\s+00000003\\s+2\\s+video0\\s+7\\s+frame-3\\s+1"
                + "\\s+LIVE\\s+gpu0,card0"), lines.get(1));
        assertTrue(lines.get(2).matches("\\s*12\\s+4096\\s+.*system\\s+7\\s+-\\s+1\\s+LIVE\\s+-"), lines.get(2));
        // right-aligned numbers: the size column ends at the same offset in every row
        int end = lines.get(0).indexOf("size") + "size".length();
        int sizeEnd1 = lines.get(1).indexOf("1228800") + 7;
        int sizeEnd2 = lines.get(2).indexOf("4096") + 4;
        assertEquals(sizeEnd1, sizeEnd2, "size column right-aligned");
        assertTrue(sizeEnd1 >= end);
        assertEquals("total: 2 buffer(s), 1.2 MiB", lines.get(3));
    }

    @Test
    void anEmptyListSaysSo() {
        RuntimeDTO rt = new RuntimeDTO();
        rt.exportedBuffers = 5;
        rt.releasedBuffers = 5;
        assertEquals("no buffers (exported 5, released 5)\n", Formats.buffers(rt));
    }

    @Test
    void infoShowsTheBufferAndItsAttachmentsOrNamesTheKnownIds() {
        RuntimeDTO rt = runtime();
        AttachmentDTO a = new AttachmentDTO();
        a.bufferId = 3;
        a.device = "gpu0";
        a.bundleId = 9;
        a.dynamic = true;
        a.mappedTables = 1;
        AttachmentDTO other = new AttachmentDTO();
        other.bufferId = 12;
        other.device = "crc0";
        rt.attachments = new AttachmentDTO[] {a, other};
        String info = Formats.buffer(rt, 3);
        assertTrue(info.startsWith("buffer 3 'frame-3'\n"), info);
        assertTrue(info.contains("size:           1228800 (1.2 MiB)\n"), info);
        assertTrue(info.contains("exporter:       video0 (bundle 7)\n"), info);
        assertTrue(info.matches("(?s).*\\n  gpu0\\s+9\\s+yes\\s+1\\s+0\\n.*"), info);
        assertTrue(!info.contains("crc0"), "only this buffer's attachments: " + info);

        assertEquals("no buffer 99 (ids of the buffers not yet released: 3, 12)\n", Formats.buffer(rt, 99));
        assertEquals("no buffer 1 (ids of the buffers not yet released: none)\n",
                Formats.buffer(new RuntimeDTO(), 1));
    }

    @Test
    void exportersListAcceptedAndRejectedWithTheReason() {
        RuntimeDTO rt = new RuntimeDTO();
        ExporterDTO e = new ExporterDTO();
        e.name = "video0";
        e.device = "video0";
        e.capabilities = new String[] {"contiguous"};
        e.serviceId = 41;
        e.bundleId = 12;
        e.buffers = 4;
        e.bytes = 4 * 1_228_800;
        FailedDriverDTO f = new FailedDriverDTO();
        f.kind = "exporter";
        f.name = "video0";
        f.serviceId = 55;
        f.bundleId = 20;
        f.failureMessage = "another exporter is named video0";
        FailedDriverDTO importer = new FailedDriverDTO();
        importer.kind = "importer";
        importer.name = "x";
        rt.exporters = new ExporterDTO[] {e};
        rt.failedDrivers = new FailedDriverDTO[] {f, importer};
        List<String> lines = Formats.exporters(rt).lines().toList();
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(1).matches("video0\\s+video0\\s+contiguous\\s+41\\s+12\\s+4\\s+4\\.7 MiB"), lines.get(1));
        assertTrue(lines.get(2).startsWith("rejected exporter"), lines.get(2));
        assertTrue(lines.get(3).matches("video0\\s+55\\s+20\\s+another exporter is named video0"), lines.get(3));

        assertEquals("no importers\nrejected importer  service  bundle  why\nx                        0       0  -\n",
                Formats.importers(rt));
    }

    @Test
    void heapsStatsAndLeaks() {
        RuntimeDTO rt = runtime();
        HeapDTO h = new HeapDTO();
        h.name = "system";
        h.bundleId = 8;
        rt.heaps = new HeapDTO[] {h};
        assertEquals("name    bundle\nsystem       8\n", Formats.heaps(rt));
        assertEquals("no heaps\n", Formats.heaps(new RuntimeDTO()));

        ClientDTO c = new ClientDTO();
        c.bundleId = 14;
        c.symbolicName = "dmabuf.pipeline";
        c.references = 3;
        c.attachments = 2;
        rt.clients = new ClientDTO[] {c};
        String stats = Formats.stats(rt);
        assertTrue(stats.startsWith("live buffers:   2 (1.2 MiB)\npeak:           5.0 MiB\nexported:       40\n"
                + "released:       38\nleaks reported: 0\nheld by bundle:\n"), stats);
        assertTrue(stats.matches("(?s).*\\n  \\s*14\\s+dmabuf.pipeline\\s+0\\s+3\\s+2\\s+0\\s+0\\s+0\\s+0\\s+0 B\\n"),
                stats);

        assertEquals("no leaks reported\n", Formats.leaks(rt));
        LeakDTO l = new LeakDTO();
        l.kind = LeakDTO.KIND_VMAP;
        l.bundleId = 14;
        l.bundleSymbolicName = "dmabuf.importer.gpu";
        l.bufferId = 3;
        l.exporterName = "video0";
        l.detail = "vmap count 1";
        rt.leaks = new LeakDTO[] {l};
        rt.leaksReported = 1;
        List<String> leaks = Formats.leaks(rt).lines().toList();
        assertTrue(leaks.get(1).matches("vmap\\s+14\\s+dmabuf.importer.gpu\\s+3\\s+-\\s+video0\\s+vmap count 1"),
                leaks.get(1));
        assertEquals("1 leak(s) reported since the core started", leaks.get(2));
    }

    @Test
    void pipelineStatusWithStages() {
        PipelineStatusDTO s = new PipelineStatusDTO();
        s.state = PipelineStatusDTO.RUNNING;
        s.width = 640;
        s.height = 480;
        s.format = "NV12";
        s.framesRequested = 120;
        s.framesDone = 60;
        s.framesPerSecond = 29.97;
        s.elapsedMillis = 2002;
        s.liveBuffers = 6;
        s.liveBytes = 6 * 1_228_800;
        s.lastFrameCrc = 0xCAFEBABEL;
        s.lastFrameNumber = 59;
        PipelineStatusDTO.StageDTO render = new PipelineStatusDTO.StageDTO();
        render.name = "render";
        render.device = "gpu0";
        render.frames = 60;
        render.latencyP50Micros = 812.4;
        render.latencyP99Micros = 1999.6;
        s.stages = new PipelineStatusDTO.StageDTO[] {render};
        String text = Formats.pipeline(s);
        assertTrue(text.startsWith("state:          RUNNING\nframes:         60 of 120, 640x480 NV12\n"
                + "fps:            30.0 over 2002 ms\nbytes copied:   0\nlive buffers:   6 (7.0 MiB)\n"
                + "last frame crc: 0xcafebabe (frame 59)\n"), text);
        assertTrue(text.matches("(?s).*\\nrender\\s+gpu0\\s+60\\s+812\\s+2000\\s+-\\n"), text);

        PipelineStatusDTO failed = new PipelineStatusDTO();
        failed.state = PipelineStatusDTO.FAILED;
        failed.failure = "scanout card0: EBUSY: cannot reach the frame";
        failed.lastFrameCrc = -1;
        String f = Formats.pipeline(failed);
        assertTrue(f.startsWith("state:          FAILED: scanout card0: EBUSY: cannot reach the frame\n"
                + "frames:         0 (until stopped)\n"), f);
        assertTrue(f.contains("last frame crc: none yet\n"), f);
    }

    @Test
    void bytesForAPerson() {
        assertEquals("0 B", Formats.bytes(0));
        assertEquals("1023 B", Formats.bytes(1023));
        assertEquals("1.0 KiB", Formats.bytes(1024));
        assertEquals("1.5 MiB", Formats.bytes(3 << 19));
        assertEquals("2.0 GiB", Formats.bytes(2L << 30));
    }
}
