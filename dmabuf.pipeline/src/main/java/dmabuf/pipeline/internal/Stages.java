package dmabuf.pipeline.internal;

import java.util.function.Function;
import java.util.function.Supplier;

import dmabuf.api.DmaBufRegistry;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.scanout.api.DumbBufferDevice;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.importer.display.api.Display;
import dmabuf.importer.encoder.api.Encoder;
import dmabuf.importer.gpu.api.ColourRenderer;

/**
 * What a run works with: the pipeline bundle's registry, the importers, and lookups of the named exporter devices
 * (null when absent).
 *
 * @param registry the pipeline bundle's registry (its references on the buffers it streams)
 * @param cameras  capture devices by name
 * @param scanouts scanout devices by name
 * @param gpus     GPU exporters by name
 * @param gpu      the GPU importer
 * @param display  the display importer
 * @param encoder  the encoder importer
 * @param runtime  the core's runtime DTO, or a supplier of null when the runtime service is absent
 */
record Stages(DmaBufRegistry registry, Function<String, CaptureDevice> cameras,
        Function<String, DumbBufferDevice> scanouts, Function<String, Gpu> gpus, ColourRenderer gpu, Display display, Encoder encoder,
        Supplier<RuntimeDTO> runtime) {
}
