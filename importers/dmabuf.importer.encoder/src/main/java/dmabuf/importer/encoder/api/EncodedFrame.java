package dmabuf.importer.encoder.api;

/**
 * One encoded frame.
 *
 * @param sequence  the frame's number, as given
 * @param rawBytes  the visible bytes that were compressed
 * @param data      the zlib stream: inflating it gives the visible rows, in order, without pitch padding
 * @param access    how the frame was read: {@code "vmap"}, or {@code "kmap"} when the exporter has no vmap
 */
public record EncodedFrame(long sequence, long rawBytes, byte[] data, String access) {
    /** Compressed size over raw size. */
    public double ratio() {
        return rawBytes == 0 ? 0 : (double) data.length / rawBytes;
    }
}
