package dmabuf.pipeline.internal;

import dmabuf.exporter.v4l2.api.PixelFormat;
import dmabuf.importer.gpu.api.ColourMatrix;

/**
 * Validated pipeline settings.
 *
 * @param width            frame width
 * @param height           frame height
 * @param format           the camera's pixel format
 * @param bufferCount      camera buffers
 * @param framebufferCount display framebuffers
 * @param camera           the capture device's name
 * @param framebufferDevice the device allocating the framebuffers: a scanout device or a GPU
 * @param matrix           the GPU's colour matrix
 * @param encode           whether the encoder runs
 * @param stopTimeoutMillis the longest stop waits for stage threads
 * @param recoveryTimeoutMillis how long a run waits for a device that went away to come back; 0: it fails at once
 */
record PipelineSettings(int width, int height, PixelFormat format, int bufferCount, int framebufferCount,
        String camera, String framebufferDevice, ColourMatrix matrix, boolean encode, long stopTimeoutMillis,
        long recoveryTimeoutMillis) {

    /** The defaults of {@link PipelineConfig}. */
    static final PipelineSettings DEFAULTS = new PipelineSettings(640, 480, PixelFormat.NV12, 4, 3, "video0", "card0",
            ColourMatrix.SEPIA, true, 2000, 10_000);

    PipelineSettings {
        if (width < 2 || height < 2 || width > 8192 || height > 8192) {
            throw new IllegalArgumentException("width and height must be 2..8192, not " + width + "x" + height);
        }
        if (bufferCount < 2 || bufferCount > 32) {
            throw new IllegalArgumentException("buffer.count must be 2..32, not " + bufferCount);
        }
        if (framebufferCount < 2 || framebufferCount > 8) {
            throw new IllegalArgumentException("framebuffer.count must be 2..8, not " + framebufferCount);
        }
        if (camera == null || camera.isBlank() || framebufferDevice == null || framebufferDevice.isBlank()) {
            throw new IllegalArgumentException("camera and framebuffer.device must name devices");
        }
        if (stopTimeoutMillis < 100) {
            throw new IllegalArgumentException("stop.timeout.ms must be at least 100, not " + stopTimeoutMillis);
        }
        if (recoveryTimeoutMillis < 0) {
            throw new IllegalArgumentException("recovery.timeout.ms must be 0 (no recovery) or positive, not "
                    + recoveryTimeoutMillis);
        }
    }

    /** @throws IllegalArgumentException naming the key for an invalid value */
    static PipelineSettings from(PipelineConfig c) {
        return new PipelineSettings(c.width(), c.height(), PixelFormat.parse(c.format()), c.buffer_count(),
                c.framebuffer_count(), c.camera().trim(), c.framebuffer_device().trim(), ColourMatrix.named(c.colour_matrix()),
                c.encode(), c.stop_timeout_ms(), c.recovery_timeout_ms());
    }

    PipelineSettings withSize(int w, int h) {
        return new PipelineSettings(w, h, format, bufferCount, framebufferCount, camera, framebufferDevice, matrix, encode,
                stopTimeoutMillis, recoveryTimeoutMillis);
    }

    PipelineSettings withFormat(PixelFormat f) {
        return new PipelineSettings(width, height, f, bufferCount, framebufferCount, camera, framebufferDevice, matrix, encode,
                stopTimeoutMillis, recoveryTimeoutMillis);
    }

    PipelineSettings withDevices(String cameraName, String framebufferDeviceName) {
        return new PipelineSettings(width, height, format, bufferCount, framebufferCount, cameraName, framebufferDeviceName,
                matrix, encode, stopTimeoutMillis, recoveryTimeoutMillis);
    }

    PipelineSettings withRecoveryTimeout(long millis) {
        return new PipelineSettings(width, height, format, bufferCount, framebufferCount, camera, framebufferDevice,
                matrix, encode, stopTimeoutMillis, millis);
    }
}
