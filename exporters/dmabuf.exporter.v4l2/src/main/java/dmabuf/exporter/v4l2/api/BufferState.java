package dmabuf.exporter.v4l2.api;

/** Who has a buffer, as the V4L2 buffer flags tell ({@code VIDIOC_QUERYBUF}). */
public enum BufferState {
    /** The application has it: after REQBUFS, DQBUF or STREAMOFF. It may be queued. */
    DEQUEUED,
    /** Queued, waiting for the device ({@code V4L2_BUF_FLAG_QUEUED}). */
    QUEUED,
    /** The device is writing it ({@code V4L2_BUF_FLAG_QUEUED}: still the device's). */
    ACTIVE,
    /** Filled, waiting on the done queue for DQBUF ({@code V4L2_BUF_FLAG_DONE}). */
    DONE
}
