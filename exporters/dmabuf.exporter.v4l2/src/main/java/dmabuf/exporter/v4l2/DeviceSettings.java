package dmabuf.exporter.v4l2;

import dmabuf.api.DmaBufException;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.PixelFormat;

/**
 * A device's validated settings, in bytes.
 *
 * @param name          the device's name, also its exporter name
 * @param memoryBytes   the size of its contiguous pool, a positive multiple of 1 MiB in a framework (tests may use
 *                      any positive multiple of the page size)
 * @param defaultFormat the format at start
 * @param fps           frames per second; 0 for "as soon as a buffer is queued"
 */
record DeviceSettings(String name, long memoryBytes, Format defaultFormat, int fps) {
    /** The largest pool a device takes, in MiB. */
    static final int MAX_MEMORY_MB = 4096;
    /** The highest frame rate. */
    static final int MAX_FPS = 1000;

    DeviceSettings {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
        if (memoryBytes <= 0 || memoryBytes % dmabuf.api.DmaBufUapi.PAGE_SIZE != 0) {
            throw new IllegalArgumentException("memory of device '" + name + "' must be a positive number of pages, "
                    + "not " + memoryBytes + " bytes");
        }
        if (defaultFormat == null) {
            throw new IllegalArgumentException("device '" + name + "' needs a default format");
        }
        if (fps < 0 || fps > MAX_FPS) {
            throw new IllegalArgumentException("fps of device '" + name + "' must be 0.." + MAX_FPS + ", not " + fps);
        }
    }

    /**
     * Settings from the configuration's values.
     *
     * @throws IllegalArgumentException naming the key and the allowed values for an invalid one
     */
    static DeviceSettings of(String name, int memoryMb, String format, int width, int height, int fps) {
        String where = "configuration " + V4l2CaptureComponent.PID + (name == null ? "" : " of '" + name + "'");
        if (memoryMb < 1 || memoryMb > MAX_MEMORY_MB) {
            throw new IllegalArgumentException(where + ": memory.mb=" + memoryMb + " must be 1.." + MAX_MEMORY_MB);
        }
        PixelFormat pixelFormat;
        try {
            pixelFormat = PixelFormat.parse(format);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": format: " + e.getMessage(), e);
        }
        Format defaultFormat;
        try {
            defaultFormat = Format.of(pixelFormat, width, height);
        } catch (DmaBufException e) {
            throw new IllegalArgumentException(where + ": width/height: " + e.getMessage(), e);
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException(where + ": name must not be blank");
        }
        if (fps < 0 || fps > MAX_FPS) {
            throw new IllegalArgumentException(where + ": fps=" + fps + " must be 0.." + MAX_FPS);
        }
        return new DeviceSettings(name.trim(), (long) memoryMb << 20, defaultFormat, fps);
    }

    /** Settings from a configuration. */
    static DeviceSettings from(V4l2Config config) {
        return of(config.name(), config.memory_mb(), config.format(), config.width(), config.height(), config.fps());
    }

    /** These settings with another frame rate. */
    DeviceSettings withFps(int newFps) {
        return new DeviceSettings(name, memoryBytes, defaultFormat, newFps);
    }

    /** These settings with another default format. */
    DeviceSettings withDefaultFormat(Format format) {
        return new DeviceSettings(name, memoryBytes, format, fps);
    }

    /** These settings with another name and pool size. */
    DeviceSettings withPool(String newName, long newMemoryBytes) {
        return new DeviceSettings(newName, newMemoryBytes, defaultFormat, fps);
    }

    /** The name of the device's pool in the memory service's accounting. */
    String poolName() {
        return "v4l2-" + name;
    }
}
