package dmabuf.exporter.v4l2.api;

/**
 * A filled buffer returned by {@link CaptureDevice#dequeue DQBUF}, as the fields of the kernel's
 * {@code struct v4l2_buffer} it sets.
 *
 * @param index          the buffer's index, from 0
 * @param sequence       the frame counter of the stream, from 0 at STREAMON; a gap means frames the device produced
 *                       while no buffer was queued were dropped (only at a fixed frame rate)
 * @param timestampNanos when the device finished the frame, on the monotonic clock ({@link System#nanoTime()},
 *                       like {@code V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC})
 * @param bytesUsed      the bytes of the frame in the buffer: the format's {@code sizeimage}; 0 with {@code error}
 * @param error          true when the device could not write the frame ({@code V4L2_BUF_FLAG_ERROR}); the buffer's
 *                       content is then undefined
 */
public record Frame(int index, long sequence, long timestampNanos, int bytesUsed, boolean error) {
}
