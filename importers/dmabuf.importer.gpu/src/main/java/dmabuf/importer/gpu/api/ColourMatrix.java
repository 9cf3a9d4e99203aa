package dmabuf.importer.gpu.api;

import java.util.Locale;

/**
 * A 3x3 colour matrix applied to R, G, B after the YCbCr conversion, in fixed point (256 = 1.0), rounded and clamped
 * to 0..255: {@code R' = clamp((m[0] R + m[1] G + m[2] B + 128) >> 8)}, and so on for G' (m[3..5]) and B' (m[6..8]).
 * Integer arithmetic, so every renderer and the {@link ReferenceTransform} agree to the bit.
 *
 * @param name         what the matrix does, for people
 * @param coefficients nine coefficients, row by row, in 1/256 units
 */
public record ColourMatrix(String name, int[] coefficients) {
    /** Leaves colours as they are. */
    public static final ColourMatrix IDENTITY = new ColourMatrix("identity", new int[] {256, 0, 0, 0, 256, 0, 0, 0,
        256});
    /** The classic sepia tone. */
    public static final ColourMatrix SEPIA = new ColourMatrix("sepia", new int[] {101, 197, 48, 89, 176, 43, 70, 137,
        34});
    /** BT.601 luma on every channel. */
    public static final ColourMatrix GREY = new ColourMatrix("grey", new int[] {77, 150, 29, 77, 150, 29, 77, 150,
        29});

    /** @throws IllegalArgumentException without nine coefficients */
    public ColourMatrix {
        if (name == null || coefficients == null || coefficients.length != 9) {
            throw new IllegalArgumentException("a colour matrix needs a name and nine coefficients");
        }
        coefficients = coefficients.clone();
    }

    @Override
    public int[] coefficients() {
        return coefficients.clone();
    }

    /**
     * A predefined matrix by name: {@code identity}, {@code sepia} or {@code grey}.
     *
     * @throws IllegalArgumentException for another name, naming the choices
     */
    public static ColourMatrix named(String name) {
        return switch (name == null ? "" : name.trim().toLowerCase(Locale.ROOT)) {
            case "identity" -> IDENTITY;
            case "sepia" -> SEPIA;
            case "grey", "gray" -> GREY;
            default -> throw new IllegalArgumentException("unknown colour matrix '" + name
                    + "': use identity, sepia or grey");
        };
    }

    /** The XRGB8888 word ({@code 0xFF << 24 | R << 16 | G << 8 | B}) of an RGB pixel after this matrix. */
    public int xrgb(int r, int g, int b) {
        int[] m = coefficients;
        int r2 = clamp((m[0] * r + m[1] * g + m[2] * b + 128) >> 8);
        int g2 = clamp((m[3] * r + m[4] * g + m[5] * b + 128) >> 8);
        int b2 = clamp((m[6] * r + m[7] * g + m[8] * b + 128) >> 8);
        return 0xFF00_0000 | r2 << 16 | g2 << 8 | b2;
    }

    /**
     * The XRGB8888 word of a BT.601 limited-range YCbCr pixel after this matrix: {@code c = Y - 16},
     * {@code d = Cb - 128}, {@code e = Cr - 128}, {@code R = (298c + 409e + 128) >> 8},
     * {@code G = (298c - 100d - 208e + 128) >> 8}, {@code B = (298c + 516d + 128) >> 8}, each clamped.
     */
    public int xrgbOfYCbCr(int y, int cb, int cr) {
        int c = 298 * (y - 16) + 128;
        int d = cb - 128;
        int e = cr - 128;
        return xrgb(clamp((c + 409 * e) >> 8), clamp((c - 100 * d - 208 * e) >> 8), clamp((c + 516 * d) >> 8));
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(v, 255);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ColourMatrix other && name.equals(other.name)
                && java.util.Arrays.equals(coefficients, other.coefficients);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + java.util.Arrays.hashCode(coefficients);
    }

    @Override
    public String toString() {
        return name + java.util.Arrays.toString(coefficients);
    }
}
