package dmabuf.exporter.example;

/**
 * The service under which the example exporter publishes the state of its stream, as service properties only: an
 * observer (the launcher, a console, a test) tracks {@code (objectClass=dmabuf.exporter.example.ProducerStatus)} and
 * reads the properties, so it needs neither this bundle's classes nor dmabuf.api. The properties change after every
 * frame (a {@code MODIFIED} service event).
 */
public interface ProducerStatus {
    /** Property: the exporter's {@code dmabuf.exporter.name}, a String. */
    String EXPORTER_NAME = "dmabuf.exporter.name";
    /** Property: the frames this stream will produce, a Long. */
    String FRAMES_TOTAL = "frames.total";
    /** Property: the frames produced so far (exported, drawn, handed to every sink and put), a Long. */
    String FRAMES_PRODUCED = "frames.produced";
    /** Property: the frame size as {@code WIDTHxHEIGHT}, a String. */
    String FRAME_SIZE = "frame.size";
    /** Property: how many sink calls failed so far, a Long. */
    String SINK_ERRORS = "sink.errors";
    /** Property: {@link #RUNNING}, {@link #DONE}, {@link #FAILED} or {@link #STOPPED}, a String. */
    String STATE = "state";
    /** Property: why the stream failed, a String; only with {@link #FAILED}. */
    String FAILURE = "failure";

    /** The stream is producing. */
    String RUNNING = "running";
    /** Every frame was produced. */
    String DONE = "done";
    /** A frame could not be produced; the stream ended early. */
    String FAILED = "failed";
    /** The component was deactivated before the last frame. */
    String STOPPED = "stopped";
}
