package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;

import org.junit.Test;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
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
 * The pipeline in Felix: configured through Configuration Admin (camera video0, scanout card0, the pipeline PID), it
 * streams frames camera -> GPU -> display -> encoder through the bundles' registries; the display's CRC of the last
 * frame is the reference transform of the camera's test pattern, nothing is copied, and nothing is left held.
 */
public class PipelineIT extends DmaBufTestSupport {
    private static final int WIDTH = 320;
    private static final int HEIGHT = 240;

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

    private PipelineStatusDTO run(Pipeline pipeline, long frames) throws InterruptedException {
        pipeline.start(frames);
        PipelineStatusDTO s = pipeline.awaitCompletion(Duration.ofMillis(TIMEOUT * 3));
        assertEquals("state; failure: " + s.failure, PipelineStatusDTO.COMPLETED, s.state);
        assertNull(s.failure);
        assertEquals(frames, s.framesDone);
        assertEquals("frames are numbered from 0 at STREAMON, none dropped at fps 0", frames - 1,
                s.lastFrameNumber);
        assertEquals("display CRC of frame " + s.lastFrameNumber, expectedCrc(s.lastFrameNumber), s.lastFrameCrc);
        assertEquals(0, s.bytesCopied);
        assertEquals(0, s.liveBuffers);
        assertEquals(4, s.stages.length);
        for (PipelineStatusDTO.StageDTO stage : s.stages) {
            assertEquals(stage.name, frames, stage.frames);
        }
        return s;
    }

    @Test
    public void framesStreamThroughTheBundlesWithTheExpectedCrcs() throws Exception {
        ConfigurationAdmin cm = awaitService(ConfigurationAdmin.class, null, TIMEOUT);
        Configuration camera = cm.getFactoryConfiguration("dmabuf.exporter.v4l2", "video0", "?");
        Configuration card = cm.getFactoryConfiguration("dmabuf.exporter.scanout", "card0", "?");
        Configuration pipe = cm.getConfiguration("dmabuf.pipeline", "?");
        DmaBufRuntime runtime = awaitService(DmaBufRuntime.class, null, TIMEOUT);
        try {
            camera.update(props("name", "video0", "fps", 0, "format", "NV12"));
            card.update(props("name", "card0"));
            pipe.update(props("width", WIDTH, "height", HEIGHT, "colour.matrix", "grey"));
            awaitService(CaptureDevice.class, "(" + CaptureDevice.DEVICE_NAME + "=video0)", TIMEOUT);
            awaitService(DumbBufferDevice.class, "(" + DumbBufferDevice.DEVICE + "=card0)", TIMEOUT);
            Pipeline pipeline = awaitService(Pipeline.class, null, TIMEOUT);
            awaitCondition(Pipeline.class, () -> pipeline.status().width == WIDTH, TIMEOUT,
                    () -> "the pipeline took its configuration: " + pipeline.status().width);

            PipelineStatusDTO first = run(pipeline, 12);
            assertTrue(first.framesPerSecond > 0);
            run(pipeline, 3);

            pipe.update(props("width", WIDTH, "height", HEIGHT, "camera", "video5"));
            awaitCondition(Pipeline.class, () -> {
                try {
                    pipeline.start(1);
                    pipeline.stop();
                    return false; // the change has not applied yet
                } catch (DmaBufException e) {
                    assertEquals(e.getMessage(), Errno.ENODEV, e.errno());
                    assertTrue(e.getMessage(), e.getMessage().contains("video5"));
                    return true;
                }
            }, TIMEOUT, () -> "a missing camera is ENODEV");
        } finally {
            pipe.delete();
            camera.delete();
            card.delete();
        }
        awaitCondition(DmaBufRuntime.class, () -> runtime.getRuntimeDTO().buffers.length == 0, TIMEOUT,
                () -> "no buffer left: " + runtime.bufinfo());
        if (runtime.getRuntimeDTO().leaks.length != 0) {
            fail("leaks: " + java.util.Arrays.toString(runtime.getRuntimeDTO().leaks));
        }
    }
}
