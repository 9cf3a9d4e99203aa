package dmabuf.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A whiteboard service through which a producer (an exporter, or a pipeline) hands buffers to a consumer: the
 * in-framework analogue of passing a dma-buf fd over a socket. Consumers register it with the
 * {@link DmaBufImporter#NAME} property; producers track the services and call {@link #accept}.
 * <p>
 * The buffer travels as an object: the producer keeps its own reference for the duration of the call, so a sink
 * that uses the buffer only inside {@code accept} needs no reference of its own; a sink that keeps it longer takes
 * one with {@link DmaBufRegistry#get(DmaBuf)} (or installs an fd) before returning, and gives it back later.
 */
@ConsumerType
public interface DmaBufSink {
    /**
     * Consumes a buffer. Should return promptly; a sink that needs long takes a reference and works later.
     *
     * @param buffer   the buffer, alive for the duration of the call
     * @param sequence the producer's sequence number of this buffer (a frame counter), from 0
     * @throws DmaBufException when the sink cannot use the buffer (e.g. its device cannot attach it)
     */
    void accept(DmaBuf buffer, long sequence);
}
