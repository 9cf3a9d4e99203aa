package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayInputStream;
import java.util.Dictionary;
import java.util.Hashtable;

import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.Version;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.exporter.scanout.api.DumbBufferDevice;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.PixelFormat;
import dmabuf.exporter.v4l2.api.TestPattern;
import dmabuf.importer.gpu.api.ColourMatrix;
import dmabuf.importer.gpu.api.ReferenceTransform;
import dmabuf.importer.gpu.api.SourceFormat;
import dmabuf.importer.gpu.api.Texture;
import dmabuf.pipeline.api.Pipeline;
import dmabuf.pipeline.api.PipelineStatusDTO;

/**
 * The V4L2 exporter bundle is updated to a new version, {@code -Ddmabuf.itest.updates} times (default 3), while an
 * open-ended pipeline run streams from its camera: each update stops the old camera and revokes its buffers, the run
 * waits for a camera of the same name ({@code recovery.timeout.ms}), takes the new one and keeps streaming with the
 * right CRCs; the stop at the end leaves nothing held.
 * <p>
 * The bundle is updated, not refreshed: the pipeline bundle imports the V4L2 API package from it, so a refresh would
 * refresh the pipeline bundle too (its component, and so its run, restart by design). The new revision wires to the
 * API package the old revision still exports (its import substitutes its own export), so its camera is the same
 * service type the pipeline tracks.
 */
public class PipelineUpdateIT extends DmaBufTestSupport {
    private static final int UPDATES = Integer.getInteger("dmabuf.itest.updates", 3);
    private static final String V4L2 = "dmabuf.exporter.v4l2";
    private static final int WIDTH = 160;
    private static final int HEIGHT = 120;
    /** Frames the pipeline must show after each update (beyond what it had shown before). */
    private static final int MORE_FRAMES = 10;

    private static Dictionary<String, Object> props(Object... kv) {
        Dictionary<String, Object> d = new Hashtable<>();
        for (int i = 0; i < kv.length; i += 2) {
            d.put((String) kv[i], kv[i + 1]);
        }
        return d;
    }

    private static long expectedCrc(long seq) {
        Format f = Format.of(PixelFormat.NV12, WIDTH, HEIGHT);
        return ReferenceTransform.crc32(TestPattern.render(f, seq),
                new Texture(SourceFormat.NV12, WIDTH, HEIGHT, f.bytesPerLine()), ColourMatrix.GREY);
    }

    /** Waits until the run has shown {@code more} frames beyond {@code before} and is RUNNING, not recovering. */
    private PipelineStatusDTO awaitStreaming(Pipeline pipeline, long before, String when) {
        PipelineStatusDTO[] last = {pipeline.status()};
        awaitCondition(Pipeline.class, () -> {
            PipelineStatusDTO s = pipeline.status();
            last[0] = s;
            assertEquals(when + ": state; failure: " + s.failure, PipelineStatusDTO.RUNNING, s.state);
            return s.recovering == null && s.framesDone >= before + MORE_FRAMES;
        }, TIMEOUT * 2, () -> when + ": " + last[0].framesDone + " frames (" + before + " before), recovering: "
                + last[0].recovering);
        PipelineStatusDTO s = last[0];
        assertNull(s.failure);
        assertEquals(when + ": display CRC of camera frame " + s.lastFrameNumber, expectedCrc(s.lastFrameNumber),
                s.lastFrameCrc);
        assertEquals(0, s.bytesCopied);
        return s;
    }

    @Test
    public void thePipelineKeepsStreamingAcrossUpdatesOfTheCameraBundle() throws Exception {
        ConfigurationAdmin cm = awaitService(ConfigurationAdmin.class, null, TIMEOUT);
        Configuration camera = cm.getFactoryConfiguration(V4L2, "video0", "?");
        Configuration card = cm.getFactoryConfiguration("dmabuf.exporter.scanout", "card0", "?");
        Configuration pipe = cm.getConfiguration("dmabuf.pipeline", "?");
        DmaBufRuntime runtime = awaitService(DmaBufRuntime.class, null, TIMEOUT);
        Bundle exporter = bundle(V4L2);
        Version original = exporter.getVersion();
        try {
            camera.update(props("name", "video0", "fps", 0, "format", "NV12"));
            card.update(props("name", "card0"));
            pipe.update(props("width", WIDTH, "height", HEIGHT, "colour.matrix", "grey", "encode", false,
                    "recovery.timeout.ms", TIMEOUT));
            awaitService(CaptureDevice.class, "(" + CaptureDevice.DEVICE_NAME + "=video0)", TIMEOUT);
            awaitService(DumbBufferDevice.class, "(" + DumbBufferDevice.DEVICE + "=card0)", TIMEOUT);
            Pipeline pipeline = awaitService(Pipeline.class, null, TIMEOUT);
            awaitCondition(Pipeline.class, () -> pipeline.status().width == WIDTH, TIMEOUT,
                    () -> "the pipeline took its configuration: " + pipeline.status().width);

            pipeline.start(0);
            PipelineStatusDTO s = awaitStreaming(pipeline, 0, "before the first update");
            for (int i = 1; i <= UPDATES; i++) {
                Version next = new Version(original.getMajor(), original.getMinor(), original.getMicro(),
                        "update" + i);
                long before = pipeline.status().framesDone;
                exporter.update(new ByteArrayInputStream(ExporterUpdateIT.withVersion(V4L2, next)));
                assertEquals(next, exporter.getVersion());
                assertEquals("update " + i + ": the exporter runs again", Bundle.ACTIVE, exporter.getState());
                s = awaitStreaming(pipeline, before, "update " + i);
                assertTrue("update " + i + ": the frames come from a new camera (its numbers start over): frame "
                        + s.lastFrameNumber + " of " + s.framesDone, s.lastFrameNumber < s.framesDone - before);
            }

            PipelineStatusDTO stopped = pipeline.stop();
            assertEquals(PipelineStatusDTO.STOPPED, stopped.state);
            assertNull(stopped.failure);
            assertTrue(stopped.framesDone >= (UPDATES + 1L) * MORE_FRAMES);
            assertEquals(0, stopped.liveBuffers);
        } finally {
            pipe.delete();
            camera.delete();
            card.delete();
            if (!original.equals(exporter.getVersion())) { // no camera configured now: nothing to revoke
                exporter.update(new ByteArrayInputStream(ExporterUpdateIT.withVersion(V4L2, original)));
            }
        }
        awaitCondition(DmaBufRuntime.class, () -> runtime.getRuntimeDTO().buffers.length == 0, TIMEOUT,
                () -> "no buffer left: " + runtime.bufinfo());
        // No leak report either: DmaBufTestSupport fails any test whose leaks it did not declare.
    }
}
