package dmabuf.importer.gpu.api;

import java.util.zip.CRC32;

/**
 * The renderer's transform as a pure function over byte arrays: what a {@link ColourRenderer} must write, for tests
 * and tools that check a rendered or scanned-out frame. Slow and simple on purpose.
 */
public final class ReferenceTransform {
    private ReferenceTransform() {
    }

    /**
     * Renders {@code source} (laid out as {@code texture}) to tightly packed XRGB8888: {@code 4 * width * height}
     * bytes, B, G, R, 0xFF per pixel.
     *
     * @param source at least {@link Texture#bytes()} bytes
     */
    public static byte[] render(byte[] source, Texture texture, ColourMatrix matrix) {
        int w = texture.width();
        int h = texture.height();
        int pitch = texture.pitch();
        byte[] out = new byte[4 * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int word;
                if (texture.format() == SourceFormat.NV12) {
                    int luma = source[y * pitch + x] & 0xFF;
                    int chroma = pitch * h + (y / 2) * pitch + (x / 2) * 2;
                    word = matrix.xrgbOfYCbCr(luma, source[chroma] & 0xFF, source[chroma + 1] & 0xFF);
                } else {
                    int p = y * pitch + 4 * x;
                    word = matrix.xrgb(source[p] & 0xFF, source[p + 1] & 0xFF, source[p + 2] & 0xFF);
                }
                int o = 4 * (y * w + x);
                out[o] = (byte) word;
                out[o + 1] = (byte) (word >>> 8);
                out[o + 2] = (byte) (word >>> 16);
                out[o + 3] = (byte) (word >>> 24);
            }
        }
        return out;
    }

    /** The CRC-32 of {@link #render}'s result: what a display's pipe CRC of the visible frame must be. */
    public static long crc32(byte[] source, Texture texture, ColourMatrix matrix) {
        CRC32 crc = new CRC32();
        crc.update(render(source, texture, matrix));
        return crc.getValue();
    }
}
