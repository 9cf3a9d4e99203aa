package dmabuf.exporter.v4l2.api;

import java.util.concurrent.TimeUnit;

import org.osgi.annotation.versioning.ProviderType;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;

/**
 * A V4L2-like capture device ({@code /dev/videoN} with {@code videobuf2}): a buffer queue the application feeds with
 * empty buffers and takes filled frames from, whose buffers it can export as dma-bufs. Registered as a service with
 * {@link #DEVICE_NAME} (the same object is the device's {@link dmabuf.api.DmaBufExporter} service). Thread-safe;
 * {@link #dequeue} may block while other threads queue, stream or export.
 * <p>
 * Every refused call throws {@link DmaBufException} with the errno the kernel returns for it and changes nothing.
 * After the device went away (its configuration was deleted or its bundle stopped), every call fails with
 * {@link Errno#ENODEV}.
 */
@ProviderType
public interface CaptureDevice {
    /** Service property: the device's name, a String such as {@code "video0"} (also its exporter name). */
    String DEVICE_NAME = "dmabuf.v4l2.device";
    /** Service property: the four-character codes of the pixel formats it captures, a String[]. */
    String PIXEL_FORMATS = "dmabuf.v4l2.formats";
    /** The most buffers REQBUFS allocates ({@code VIDEO_MAX_FRAME}). */
    int MAX_BUFFERS = 32;

    /** The device's name. */
    String name();

    /** The current format ({@code VIDIOC_G_FMT}). */
    Format format();

    /**
     * Computes the format the device would use, changing nothing ({@code VIDIOC_TRY_FMT}); see {@link Format#of}.
     *
     * @throws DmaBufException {@link Errno#EINVAL} as {@link Format#of}
     */
    Format tryFormat(PixelFormat pixelFormat, int width, int height);

    /**
     * Sets the format ({@code VIDIOC_S_FMT}); buffers allocated later have its {@code sizeimage}.
     *
     * @return the format now in force
     * @throws DmaBufException {@link Errno#EINVAL} as {@link Format#of}; {@link Errno#EBUSY} while buffers are
     *         allocated (free them with {@code requestBuffers(0)} first)
     */
    Format setFormat(PixelFormat pixelFormat, int width, int height);

    /**
     * Allocates buffers for the current format ({@code VIDIOC_REQBUFS}, memory {@code MMAP}). Buffers allocated
     * before are freed first; one that is exported stays alive for the importers that hold it (an orphan, as
     * {@code V4L2_BUF_CAP_SUPPORTS_ORPHANED_BUFS}) and its memory returns to the pool when the last of them puts it.
     *
     * @param count how many buffers; 0 frees them all; more than {@link #MAX_BUFFERS} is clamped
     * @return how many were allocated: fewer than asked when the pool ran out part way
     * @throws DmaBufException {@link Errno#EINVAL} for a negative count; {@link Errno#EBUSY} while streaming;
     *         {@link Errno#ENOMEM} when not even one buffer fits in the pool
     */
    int requestBuffers(int count);

    /**
     * Describes a buffer ({@code VIDIOC_QUERYBUF}).
     *
     * @throws DmaBufException {@link Errno#EINVAL} for an index that is not an allocated buffer's
     */
    BufferInfo queryBuffer(int index);

    /**
     * Queues a buffer for the device to fill ({@code VIDIOC_QBUF}). Allowed before and during streaming.
     *
     * @param index the buffer
     * @throws DmaBufException {@link Errno#EINVAL} for an index that is not an allocated buffer's, or a buffer that is
     *         not {@link BufferState#DEQUEUED} (already queued, being filled, or done and not yet dequeued)
     */
    void queue(int index);

    /**
     * Takes the oldest filled buffer from the done queue ({@code VIDIOC_DQBUF}), waiting for one at most
     * {@code timeout}; 0 does not wait (as {@code O_NONBLOCK}).
     *
     * @return the frame; its buffer is {@link BufferState#DEQUEUED} again
     * @throws DmaBufException {@link Errno#EINVAL} when not streaming, also when STREAMOFF ends the wait, for a
     *         negative timeout or a null unit; {@link Errno#EAGAIN} when no frame was done within the timeout;
     *         {@link Errno#EINTR} when the waiting thread is interrupted (its interrupt status is kept)
     */
    Frame dequeue(long timeout, TimeUnit unit);

    /**
     * Starts capture ({@code VIDIOC_STREAMON}): the sequence counter restarts at 0 and the device's frame generator
     * fills queued buffers in queue order, at the configured frame rate (dropping frames while no buffer is queued)
     * or, at frame rate 0, as soon as each buffer is queued. Streaming again is a no-op.
     *
     * @throws DmaBufException {@link Errno#EINVAL} when no buffers are allocated
     */
    void streamOn();

    /**
     * Stops capture ({@code VIDIOC_STREAMOFF}): the frame generator stops (a frame being written is finished first),
     * waiters in {@link #dequeue} get {@link Errno#EINVAL}, and every buffer, queued, being filled or done, is
     * {@link BufferState#DEQUEUED} again. Buffers stay allocated and exported. Not streaming is a no-op.
     */
    void streamOff();

    /** True between STREAMON and STREAMOFF. */
    boolean isStreaming();

    /**
     * Exports a buffer as a dma-buf ({@code VIDIOC_EXPBUF}). The buffer is exported once, read-write, under the
     * device's exporter name; exporting it again returns the same live {@link DmaBuf}. The device holds one
     * reference to it until {@code requestBuffers(0)} or until the device goes away; a bundle that keeps the buffer
     * takes its own reference ({@link dmabuf.api.DmaBufRegistry#get(DmaBuf)}) and may install an fd with the flags it
     * passed here.
     *
     * @param index the buffer
     * @param flags {@link DmaBufUapi#O_CLOEXEC} and access-mode bits ({@link DmaBufUapi#O_ACCMODE}); any other bit is
     *              {@link Errno#EINVAL}
     * @return the buffer's dma-buf, physically contiguous, of {@link BufferInfo#length()} bytes
     * @throws DmaBufException {@link Errno#EINVAL} for other flag bits or an index that is not an allocated buffer's
     */
    DmaBuf exportBuffer(int index, int flags);

    /** The frame rate in frames per second; 0 fills each buffer as soon as it is queued. */
    int fps();
}
