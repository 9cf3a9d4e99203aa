package dmabuf.importer.display.api;

/**
 * What a page flip scanned out.
 *
 * @param crc    the CRC-32 of the visible frame: {@code 4 * width} bytes of each of the {@code height} rows, in order
 *               (pitch padding excluded), as {@link java.util.zip.CRC32} computes it
 * @param flip   the flip's number on this display, from 1
 * @param access how the display read the frame: {@code "vmap"}, or {@code "kmap"} when the exporter has no vmap
 */
public record ScanoutResult(long crc, long flip, String access) {
}
