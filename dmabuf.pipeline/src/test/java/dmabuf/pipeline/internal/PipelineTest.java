package dmabuf.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.runtime.ClientDTO;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.PixelFormat;
import dmabuf.exporter.v4l2.api.TestPattern;
import dmabuf.importer.gpu.api.ColourMatrix;
import dmabuf.importer.gpu.api.ReferenceTransform;
import dmabuf.importer.gpu.api.SourceFormat;
import dmabuf.importer.gpu.api.Texture;
import dmabuf.pipeline.api.PipelineStatusDTO;

/** The pipeline end to end on real devices: CRCs of every frame, zero copies, start refusals, stop, figures. */
class PipelineTest {
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(60);

    /** The CRC the display must report for camera frame {@code seq}: the GPU transform of the test pattern. */
    static long expectedCrc(Format format, long seq, ColourMatrix matrix) {
        Texture texture = new Texture(format.pixelFormat() == PixelFormat.NV12 ? SourceFormat.NV12
                : SourceFormat.RGBA, format.width(), format.height(), format.bytesPerLine());
        return ReferenceTransform.crc32(TestPattern.render(format, seq), texture, matrix);
    }

    private static void assertHoldsNothing(PipelineRig rig) {
        ClientDTO c = rig.pipelineClient();
        assertEquals(0, c.references, "references the pipeline still holds");
        assertEquals(0, c.attachments, "attachments");
        assertEquals(0, c.vmaps, "vmaps");
        assertFalse(rig.camera.isStreaming(), "camera still streaming");
        assertTrue(rig.warnings.stream().noneMatch(w -> w.contains("leak")), rig.warnings::toString);
    }

    /** Runs {@code frames} and checks every displayed frame's CRC and the run's figures. */
    private static PipelineStatusDTO runAndCheck(PipelineSettings settings, int frames) throws InterruptedException {
        return runAndCheck(settings, frames, 1);
    }

    /** Runs {@code frames} and checks the CRC of every {@code stride}-th frame and of the last, and the figures. */
    private static PipelineStatusDTO runAndCheck(PipelineSettings settings, int frames, int stride)
            throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(settings)) {
            rig.pipeline.start(frames);
            PipelineStatusDTO s = rig.pipeline.awaitCompletion(RUN_TIMEOUT);

            assertEquals(PipelineStatusDTO.COMPLETED, s.state, () -> "failure: " + s.failure);
            assertNull(s.failure);
            Format format = Format.of(settings.format(), settings.width(), settings.height());
            List<Long> crcs = rig.display.crcs();
            assertEquals(frames, crcs.size());
            for (int seq = 0; seq < frames; seq += stride) {
                assertEquals(expectedCrc(format, seq, settings.matrix()), crcs.get(seq), "CRC of frame " + seq);
            }
            assertEquals(frames, s.framesDone);
            assertEquals(frames, s.framesRequested);
            assertEquals(frames - 1, s.lastFrameNumber);
            assertEquals(expectedCrc(format, frames - 1, settings.matrix()), s.lastFrameCrc);
            assertEquals(0, s.bytesCopied, "bytes copied on the frame path");
            assertEquals(0, s.liveBuffers, "buffers held after the run");
            assertEquals(0, s.liveBytes);
            assertTrue(s.framesPerSecond > 0);
            assertEquals(settings.format().fourcc(), s.format);
            assertEquals(4, s.stages.length);
            for (PipelineStatusDTO.StageDTO stage : s.stages) {
                assertEquals(frames, stage.frames, stage.name);
                assertTrue(stage.latencyP99Micros >= stage.latencyP50Micros, stage.name);
            }
            assertHoldsNothing(rig);
            return s;
        }
    }

    @Test
    void nv12FramesReachTheDisplayAsTheReferenceTransformWithoutCopies() throws InterruptedException {
        runAndCheck(PipelineSettings.DEFAULTS.withSize(320, 240), 24);
    }

    @Test
    void stagesOrderedByFencesOverlapAndEveryCrcStaysRight() throws InterruptedException {
        PipelineStatusDTO s = runAndCheck(PipelineSettings.DEFAULTS.withSize(320, 240), 30);
        // scanout and encode of frame n start on the same render fence, render of n+1 runs beside them
        assertTrue(s.overlappedMillis > 0, "stages never ran at once: " + s.overlappedMillis + " ms");
        assertTrue(s.meanStagesInFlight > 0.5, "mean stages in flight " + s.meanStagesInFlight);
        System.out.println(String.format(Locale.ROOT, "pipeline 320x240 NV12 overlap: %.2f stages in flight on "
                + "average, %d of %d ms with two or more at once", s.meanStagesInFlight, s.overlappedMillis,
                s.elapsedMillis));
    }

    /**
     * Regression: a scanout job whose dependencies had already signalled ran on its executor before the run knew its
     * fence, so the frame on screen was never released, its framebuffer's READ fence never signalled and the run
     * stalled with every camera buffer waiting (seen in about half the demo runs on an idle machine). Small frames
     * and many short runs make the job run at once often.
     */
    @Test
    void manyShortRunsAllCompleteWhenJobsStartTheMomentTheyArePublished() throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(64, 48))) {
            for (int run = 0; run < 25; run++) {
                rig.pipeline.start(30);
                PipelineStatusDTO s = rig.pipeline.awaitCompletion(Duration.ofSeconds(20));
                assertEquals(PipelineStatusDTO.COMPLETED, s.state, "run " + run + " ended as " + s.state + " after "
                        + s.framesDone + " of 30 frames: " + s.failure);
                assertEquals(30, s.framesDone);
            }
            assertHoldsNothing(rig);
        }
    }

    @Test
    void aFailingStageFailsTheRunWithoutHangingAndGivesEverythingBack() throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(160, 120))) {
            rig.display.failAtFlip = 5;
            rig.pipeline.start(40);
            PipelineStatusDTO s = rig.pipeline.awaitCompletion(RUN_TIMEOUT);
            assertEquals(PipelineStatusDTO.FAILED, s.state);
            assertTrue(s.failure.startsWith("scanout: ") && s.failure.contains("EIO"), s.failure);
            assertEquals(5, s.framesDone, "the frames before the failure were shown");
            assertEquals(0, s.liveBuffers);
            assertHoldsNothing(rig);
        }
    }

    /** Waits (bounded) until the run says it is waiting for a device to come back. */
    private static PipelineStatusDTO awaitRecovering(PipelineRig rig) throws InterruptedException {
        long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
        PipelineStatusDTO s = rig.pipeline.status();
        while (s.recovering == null && System.nanoTime() < deadline) {
            s = rig.pipeline.awaitCompletion(Duration.ofMillis(10)); // returns at once if the run ended
            assertEquals(PipelineStatusDTO.RUNNING, s.state, () -> "the run ended instead of recovering");
        }
        assertEquals(PipelineStatusDTO.RUNNING, s.state);
        assertNull(s.failure, "no failure while recovering");
        assertTrue(s.recovering != null && s.recovering.contains("ENODEV"),
                () -> "recovering: " + rig.pipeline.status());
        return s;
    }

    /** Starts {@code frames} and takes the camera away (as a bundle update does) while frame 20 is on its way. */
    private static void startAndUnplugMidRun(PipelineRig rig, int frames) throws InterruptedException {
        rig.display.pauseAtFlip = 20;
        rig.pipeline.start(frames);
        assertTrue(rig.display.paused.await(RUN_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
        rig.unplugCamera();
        rig.display.resume.countDown();
    }

    @Test
    void aRunWhoseCameraGoesAwayWaitsForItAndCarriesOnWithEveryCrcRight() throws InterruptedException {
        PipelineSettings settings = PipelineSettings.DEFAULTS.withSize(160, 120);
        Format format = Format.of(settings.format(), settings.width(), settings.height());
        int frames = 60;
        try (PipelineRig rig = new PipelineRig(settings)) {
            startAndUnplugMidRun(rig, frames);
            PipelineStatusDTO waiting = awaitRecovering(rig);
            int before = (int) waiting.framesDone;
            assertTrue(before >= 20 && before < frames, "frames shown before the camera went: " + before);
            assertEquals(0, waiting.liveBuffers, "the lost leg gave its buffers back before waiting");
            assertEquals(0, rig.pipelineClient().references, "references held while waiting");

            rig.replugCamera();
            PipelineStatusDTO s = rig.pipeline.awaitCompletion(RUN_TIMEOUT);

            assertEquals(PipelineStatusDTO.COMPLETED, s.state, () -> "failure: " + s.failure);
            assertNull(s.failure);
            assertNull(s.recovering);
            assertEquals(frames, s.framesDone, "frames done carry on across the recovery");
            List<Long> crcs = rig.display.crcs();
            assertEquals(frames, crcs.size());
            for (int i = 0; i < frames; i++) {
                long seq = i < before ? i : i - before; // the new camera counts from 0 at its STREAMON
                assertEquals(expectedCrc(format, seq, settings.matrix()), crcs.get(i), "CRC of frame " + i);
            }
            assertEquals(frames - before - 1, s.lastFrameNumber);
            assertEquals(expectedCrc(format, frames - before - 1, settings.matrix()), s.lastFrameCrc);
            assertEquals(frames, s.stages[2].frames, "scanout figures carry on");
            assertTrue(s.elapsedMillis >= waiting.elapsedMillis, "the clock carries on");
            assertEquals(0, s.bytesCopied);
            assertEquals(0, s.liveBuffers);
            assertHoldsNothing(rig);
        }
    }

    /**
     * A camera that is back but whose exports the core still refuses (it does not know the new bundle's exporter
     * yet, and nothing tells the pipeline when it does): the recovery tries again until it can.
     */
    @Test
    void aCameraThatComesBackBeforeTheCoreKnowsItsExporterIsTriedAgain() throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(160, 120))) {
            startAndUnplugMidRun(rig, 60);
            awaitRecovering(rig);
            rig.replugCameraDeviceOnly();
            PipelineStatusDTO refused = rig.pipeline.awaitCompletion(Duration.ofMillis(300));
            assertEquals(PipelineStatusDTO.RUNNING, refused.state);
            assertTrue(refused.recovering != null, "still waiting while the core refuses the exports");
            rig.registerReplugged();
            PipelineStatusDTO s = rig.pipeline.awaitCompletion(RUN_TIMEOUT);
            assertEquals(PipelineStatusDTO.COMPLETED, s.state, () -> "failure: " + s.failure);
            assertEquals(60, s.framesDone);
            assertHoldsNothing(rig);
        }
    }

    /**
     * A camera bundle being stopped turns streaming off before it withdraws its service, so the run first sees EINVAL
     * (DQBUF: streaming turned off), not ENODEV: that is a device going away too. Here it stays, so the recovery
     * takes it again at once.
     */
    @Test
    void aCameraStoppedUnderTheRunIsTakenAgain() throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(160, 120))) {
            rig.display.pauseAtFlip = 20;
            rig.pipeline.start(60);
            assertTrue(rig.display.paused.await(RUN_TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
            rig.camera.streamOff();
            rig.display.resume.countDown();
            PipelineStatusDTO s = rig.pipeline.awaitCompletion(RUN_TIMEOUT);
            assertEquals(PipelineStatusDTO.COMPLETED, s.state, () -> "failure: " + s.failure);
            assertEquals(60, s.framesDone);
            assertHoldsNothing(rig);
        }
    }

    @Test
    void aCameraThatNeverComesBackFailsTheRunInBoundedTimeNamingIt() throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(160, 120)
                .withRecoveryTimeout(300))) {
            startAndUnplugMidRun(rig, 60);
            PipelineStatusDTO waiting = awaitRecovering(rig);
            long t0 = System.nanoTime();
            PipelineStatusDTO s = rig.pipeline.awaitCompletion(RUN_TIMEOUT);
            long waitedMillis = (System.nanoTime() - t0) / 1_000_000;

            assertEquals(PipelineStatusDTO.FAILED, s.state);
            assertTrue(s.failure.contains("did not come back within 300 ms") && s.failure.contains("'video0'"),
                    s.failure);
            assertNull(s.recovering);
            assertTrue(waitedMillis < 5_000, "failed after " + waitedMillis + " ms");
            assertEquals(waiting.framesDone, s.framesDone);
            assertEquals(0, s.liveBuffers);
            assertEquals(0, rig.pipelineClient().references);
            assertEquals(0, rig.pipelineClient().attachments);
            assertTrue(rig.warnings.stream().noneMatch(w -> w.contains("leak")), rig.warnings::toString);
        }
    }

    @Test
    void withRecoveryOffALostCameraFailsTheRunAtOnce() throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(160, 120).withRecoveryTimeout(0))) {
            startAndUnplugMidRun(rig, 60);
            PipelineStatusDTO s = rig.pipeline.awaitCompletion(RUN_TIMEOUT);
            assertEquals(PipelineStatusDTO.FAILED, s.state);
            assertTrue(s.failure.contains("ENODEV") && !s.failure.contains("come back"), s.failure);
            assertEquals(0, s.liveBuffers);
            assertEquals(0, rig.pipelineClient().references);
        }
    }

    @Test
    void stopWhileWaitingForALostCameraStopsTheRun() throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(160, 120))) {
            startAndUnplugMidRun(rig, 60);
            awaitRecovering(rig);
            long t0 = System.nanoTime();
            PipelineStatusDTO s = rig.pipeline.stop();
            assertEquals(PipelineStatusDTO.STOPPED, s.state, () -> "failure: " + s.failure);
            assertTrue((System.nanoTime() - t0) / 1_000_000 < 5_000, "stop waited out the recovery timeout");
            assertEquals(0, rig.pipelineClient().references);
        }
    }

    @Test
    void rgbaFramesToo() throws InterruptedException {
        runAndCheck(PipelineSettings.DEFAULTS.withSize(200, 120).withFormat(PixelFormat.RGBA), 12);
    }

    @Test
    void whileRunningBuffersAreLiveAndAnOpenEndedRunStopsAndGivesEverythingBack() throws InterruptedException {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(160, 120))) {
            rig.pipeline.start(0);
            PipelineStatusDTO running = rig.pipeline.status();
            assertEquals(PipelineStatusDTO.RUNNING, running.state);
            assertEquals(4 + 3, running.liveBuffers, "camera buffers and framebuffers");
            assertTrue(running.liveBytes > 0);
            assertEquals(Errno.EBUSY, assertThrows(DmaBufException.class, () -> rig.pipeline.start(5)).errno());
            long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
            while (rig.pipeline.status().framesDone < 10 && System.nanoTime() < deadline) {
                rig.pipeline.awaitCompletion(Duration.ofMillis(10)); // a bounded wait, not a sleep
            }

            PipelineStatusDTO stopped = rig.pipeline.stop();

            assertEquals(PipelineStatusDTO.STOPPED, stopped.state);
            assertTrue(stopped.framesDone >= 10, "frames: " + stopped.framesDone);
            assertEquals(0, stopped.liveBuffers);
            assertEquals(0, stopped.bytesCopied);
            assertHoldsNothing(rig);
            assertEquals(Errno.EINVAL, assertThrows(DmaBufException.class, () -> rig.camera.queryBuffer(0)).errno(),
                    "the camera's buffers are freed");
            assertEquals(stopped.state, rig.pipeline.stop().state, "stop is idempotent");
        }
    }

    private static void assertStartFails(PipelineRig rig, Errno errno, String... words) {
        DmaBufException e = assertThrows(DmaBufException.class, () -> rig.pipeline.start(3));
        assertEquals(errno, e.errno(), e.getMessage());
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), () -> "'" + w + "' not in: " + e.getMessage());
        }
        PipelineStatusDTO s = rig.pipeline.status();
        assertEquals(PipelineStatusDTO.FAILED, s.state);
        assertTrue(s.failure.contains(errno.name()), s.failure);
        assertHoldsNothing(rig);
    }

    @Test
    void aMissingCameraOrScanoutDeviceIsEnodevNamingIt() {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withDevices("video7", "card0"))) {
            assertStartFails(rig, Errno.ENODEV, "video7");
        }
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withDevices("video0", "card3"))) {
            assertStartFails(rig, Errno.ENODEV, "card3", "framebuffer device");
        }
    }

    @Test
    void framebuffersTheGpuExporterScattersCannotBeScannedOutAndTheStartSaysWhy() {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(96, 64).withDevices("video0",
                "gpu0"))) {
            assertStartFails(rig, Errno.EBUSY, "crtc0", "gpu0", "contiguous");
            assertEquals(0, rig.display.flips());
        }
    }

    @Test
    void anImpossibleFormatIsTheCamerasEinval() {
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(321, 240))) {
            assertStartFails(rig, Errno.EINVAL, "NV12");
        }
    }

    @Test
    void aFramebufferTheDisplayCannotScanOutFailsTheStartWithTheExportersErrno() {
        // A 24-bit scanout engine cannot reach the scanout pool's DMA32 placement: the exporter refuses the attach.
        try (PipelineRig rig = new PipelineRig(PipelineSettings.DEFAULTS.withSize(64, 64), 24)) {
            DmaBufException e = assertThrows(DmaBufException.class, () -> rig.pipeline.start(3));
            assertTrue(e.getMessage().contains("crtc0"), e.getMessage());
            assertEquals(PipelineStatusDTO.FAILED, rig.pipeline.status().state);
            assertHoldsNothing(rig);
            assertEquals(0, rig.display.flips());
        }
    }

    /** The figures the README quotes: fps and per-stage latency at 640x480 and 1080p NV12 (printed, not asserted). */
    @Test
    void figuresAt640x480And1080p() throws InterruptedException {
        for (int[] size : new int[][] {{640, 480}, {1920, 1080}}) {
            // Enough frames for the stages' code to be compiled; the CRCs of a few are recomputed (slow at 1080p).
            PipelineStatusDTO s = runAndCheck(PipelineSettings.DEFAULTS.withSize(size[0], size[1]), 30, 10);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "pipeline %dx%d NV12: %.1f fps, "
                    + "%.2f stages in flight, %d ms overlapped", s.width, s.height, s.framesPerSecond,
                    s.meanStagesInFlight, s.overlappedMillis));
            for (PipelineStatusDTO.StageDTO st : s.stages) {
                line.append(String.format(Locale.ROOT, "; %s p50 %.0f us p99 %.0f us", st.name, st.latencyP50Micros,
                        st.latencyP99Micros));
            }
            System.out.println(line);
        }
    }
}
