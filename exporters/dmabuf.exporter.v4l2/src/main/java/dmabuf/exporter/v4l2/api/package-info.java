/**
 * A V4L2-like capture device as an OSGi service: the buffer queue model of the Linux Video4Linux2 API with the
 * kernel's errno rules, whose buffers are exported as dma-bufs.
 *
 * <h2>DOC: the buffer queue</h2>
 * A {@link dmabuf.exporter.v4l2.api.CaptureDevice} works like a V4L2 capture node with {@code videobuf2}:
 * <ol>
 * <li>{@link dmabuf.exporter.v4l2.api.CaptureDevice#setFormat S_FMT} picks the pixel format and size; the device
 * computes {@code bytesperline} and {@code sizeimage} ({@link dmabuf.exporter.v4l2.api.Format#of}).</li>
 * <li>{@link dmabuf.exporter.v4l2.api.CaptureDevice#requestBuffers REQBUFS} allocates buffers of {@code sizeimage}
 * (rounded up to whole pages) from the device's physically contiguous pool; {@code REQBUFS(0)} frees them.</li>
 * <li>{@link dmabuf.exporter.v4l2.api.CaptureDevice#queue QBUF} hands a buffer to the device;
 * {@link dmabuf.exporter.v4l2.api.CaptureDevice#streamOn STREAMON} starts capture: the device fills queued buffers in
 * queue order and moves each to the done queue, where
 * {@link dmabuf.exporter.v4l2.api.CaptureDevice#dequeue DQBUF} returns it as a
 * {@link dmabuf.exporter.v4l2.api.Frame}. {@link dmabuf.exporter.v4l2.api.CaptureDevice#streamOff STREAMOFF} stops
 * capture and gives every buffer back to the application.</li>
 * <li>{@link dmabuf.exporter.v4l2.api.CaptureDevice#exportBuffer EXPBUF} exports a buffer as a
 * {@link dmabuf.api.DmaBuf}: importers attach devices to it, map it and read the frames without a copy.</li>
 * </ol>
 * Every refused call throws a {@link dmabuf.api.DmaBufException} carrying the errno the kernel returns for it; each
 * method's documentation lists them.
 *
 * <h2>DOC: what the frames contain</h2>
 * The device is a test source: frame {@code n} of a stream is {@link dmabuf.exporter.v4l2.api.TestPattern} for
 * sequence number {@code n}, so any consumer can recompute the bytes (or their CRC) it should have received.
 */
@Version("1.0.0")
@Export
package dmabuf.exporter.v4l2.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
