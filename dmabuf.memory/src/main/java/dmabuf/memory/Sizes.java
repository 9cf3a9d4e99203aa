package dmabuf.memory;

/** Formatting of sizes and addresses for messages people read. */
public final class Sizes {
    private Sizes() {
    }

    /** {@code 12 KiB}, {@code 3.75 GiB}, {@code 100 bytes}: exact where the size is a whole unit. */
    public static String bytes(long n) {
        if (n < 0) {
            return n + " bytes";
        }
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        double v = n;
        while (u < units.length - 1 && v >= 1024) {
            v /= 1024;
            u++;
        }
        if (u == 0) {
            return n + (n == 1 ? " byte" : " bytes");
        }
        if (v == Math.rint(v)) {
            return (long) v + " " + units[u];
        }
        return String.format(java.util.Locale.ROOT, "%.2f %s (%d bytes)", v, units[u], n);
    }

    /** {@code 0x100000000}. */
    public static String hex(long address) {
        return "0x" + Long.toHexString(address);
    }

    /** {@code [0x1000, 0x3000)}. */
    public static String range(long start, long end) {
        return "[" + hex(start) + ", " + hex(end) + ")";
    }

    /** {@code bundle camera.app [14]}. */
    public static String bundle(long id, String symbolicName) {
        return "bundle " + (symbolicName == null || symbolicName.isEmpty() ? "?" : symbolicName) + " [" + id + "]";
    }
}
