package dmabuf.importer.gpu.api;

/** The texture formats the renderer samples, with their fourccs. */
public enum SourceFormat {
    /** Y plane of {@code height} rows, then interleaved Cb/Cr of {@code height / 2} rows, one pitch for both. */
    NV12,
    /** Bytes R, G, B, A per pixel ({@code AB24}). */
    RGBA;

    /**
     * The format for a name or fourcc, ignoring case: {@code NV12}, {@code RGBA} or {@code AB24}.
     *
     * @throws IllegalArgumentException for anything else, naming the choices
     */
    public static SourceFormat parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.equalsIgnoreCase("NV12")) {
            return NV12;
        }
        if (t.equalsIgnoreCase("RGBA") || t.equalsIgnoreCase("AB24")) {
            return RGBA;
        }
        throw new IllegalArgumentException("unknown source format '" + text + "': use NV12 or RGBA (AB24)");
    }
}
