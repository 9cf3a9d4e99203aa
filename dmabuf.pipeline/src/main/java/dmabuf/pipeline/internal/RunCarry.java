package dmabuf.pipeline.internal;

import java.util.Map;

/**
 * What a run that lost a device carries into its next leg ({@link RecoveringRun}): its clock, figures and counters.
 *
 * @param startNanos when the run started
 * @param overlap    the stages' overlap so far
 * @param stats      each stage's figures, by stage name
 * @param framesDone frames the display showed (the next leg captures the frames still to do)
 * @param lastCrc    CRC of the last frame shown
 * @param lastFrameNumber its camera sequence number
 * @param bytesCopied bytes copied on the frame path
 * @param encodedBytes bytes the encoder produced
 * @param rawBytes   bytes the encoder was given
 */
record RunCarry(long startNanos, Overlap overlap, Map<String, StageStats> stats, long framesDone,
        long lastCrc, long lastFrameNumber, long bytesCopied, long encodedBytes, long rawBytes) {
}
