package dmabuf.exporter.v4l2.api;

/** The pixel formats the device captures, with their V4L2 four-character codes. */
public enum PixelFormat {
    /**
     * {@code V4L2_PIX_FMT_RGBA32} ({@code 'AB24'}): one plane, 4 bytes per pixel, bytes R, G, B, A in memory.
     * {@code bytesperline = width * 4}, {@code sizeimage = bytesperline * height}.
     */
    RGBA("AB24"),
    /**
     * {@code V4L2_PIX_FMT_NV12} ({@code 'NV12'}): a Y plane of {@code height} rows, then an interleaved Cb/Cr plane of
     * {@code height / 2} rows, both with the same {@code bytesperline = align(width, 16)}; width and height must be
     * even. {@code sizeimage = bytesperline * height * 3 / 2}.
     */
    NV12("NV12");

    private final String fourcc;

    PixelFormat(String fourcc) {
        this.fourcc = fourcc;
    }

    /** The four-character code, e.g. {@code "NV12"}. */
    public String fourcc() {
        return fourcc;
    }

    /** The code as the kernel's {@code v4l2_fourcc(a, b, c, d)}: {@code a | b << 8 | c << 16 | d << 24}. */
    public int code() {
        return fourcc.charAt(0) | fourcc.charAt(1) << 8 | fourcc.charAt(2) << 16 | fourcc.charAt(3) << 24;
    }

    /**
     * The format with this name or four-character code, ignoring case.
     *
     * @param text {@code "RGBA"}, {@code "AB24"}, {@code "NV12"}
     * @return the format
     * @throws IllegalArgumentException for anything else, naming the choices
     */
    public static PixelFormat parse(String text) {
        if (text != null) {
            String t = text.trim();
            for (PixelFormat f : values()) {
                if (f.name().equalsIgnoreCase(t) || f.fourcc.equalsIgnoreCase(t)) {
                    return f;
                }
            }
        }
        throw new IllegalArgumentException("unknown pixel format '" + text + "': use RGBA (AB24) or NV12");
    }
}
