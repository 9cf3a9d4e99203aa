package dmabuf.exporter.scanout;

/**
 * A scanout device's validated configuration.
 *
 * @param name        the device's name, not blank
 * @param memoryBytes the pool's size, a positive number of whole MB, at most 4 GiB
 * @param maxWidth    the widest buffer, positive
 * @param maxHeight   the tallest buffer, positive
 */
record ScanoutSettings(String name, long memoryBytes, int maxWidth, int maxHeight) {
    /** One MB. */
    static final long MB = 1L << 20;
    /** The most memory a pool below a 32-bit mask can have: the whole zone. */
    static final int MAX_MEMORY_MB = 4096;
    /** The longest device name: the pool is named after it and names are for people. */
    static final int MAX_NAME_LENGTH = 64;

    /** The defaults of {@link ScanoutConfig}. */
    static final ScanoutSettings DEFAULTS = new ScanoutSettings("card0", 64 * MB, 8192, 8192);

    /** Validates the settings; an invalid one is an {@link IllegalArgumentException} saying what is wrong. */
    ScanoutSettings {
        if (name == null || name.isBlank() || name.length() > MAX_NAME_LENGTH || !name.strip().equals(name)) {
            throw new IllegalArgumentException("name '" + name + "' must be 1 to " + MAX_NAME_LENGTH
                    + " characters without leading or trailing blanks");
        }
        if (memoryBytes <= 0 || memoryBytes % MB != 0 || memoryBytes > MAX_MEMORY_MB * MB) {
            throw new IllegalArgumentException("memory.mb " + (memoryBytes / MB) + " must be 1 to " + MAX_MEMORY_MB
                    + " (the pool lies below 4 GiB)");
        }
        if (maxWidth < 1 || maxHeight < 1) {
            throw new IllegalArgumentException("max.width " + maxWidth + " and max.height " + maxHeight
                    + " must be positive");
        }
    }

    /** The settings of a configuration. */
    static ScanoutSettings from(ScanoutConfig config) {
        return new ScanoutSettings(config.name(), config.memory_mb() * MB, config.max_width(), config.max_height());
    }

    /** The pool's name: the device's, so the accounting shows whose memory it is. */
    String poolName() {
        return name + "-scanout";
    }

    /** The memory in MB. */
    long memoryMb() {
        return memoryBytes / MB;
    }

    ScanoutSettings withMemoryBytes(long bytes) {
        return new ScanoutSettings(name, bytes, maxWidth, maxHeight);
    }

    ScanoutSettings withName(String newName) {
        return new ScanoutSettings(newName, memoryBytes, maxWidth, maxHeight);
    }
}
