package dmabuf.exporter.v4l2.api;

/**
 * A buffer as {@link CaptureDevice#queryBuffer QUERYBUF} describes it.
 *
 * @param index    the buffer's index
 * @param length   the buffer's size in bytes: the format's {@code sizeimage} rounded up to whole pages; an exported
 *                 buffer's {@link dmabuf.api.DmaBuf#size()}
 * @param state    who has it
 * @param exported true when EXPBUF exported it and the device holds the export
 */
public record BufferInfo(int index, long length, BufferState state, boolean exported) {
}
