/**
 * The streaming pipeline as a service: camera frames travel to a GPU importer, which renders a colour-transformed
 * frame into a display framebuffer that the display importer scans out (and an encoder compresses), every hop as a
 * dma-buf, never as a copied array.
 * <p>
 * <b>Contract.</b> The {@link dmabuf.pipeline.api.Pipeline} service is registered while the pipeline's stages (the
 * capture exporter, the GPU and display importers, the encoder) are all present; it goes away with any of them.
 * Its runs are bounded ({@code start(n)}) or open-ended ({@code start(0)}), one at a time. Its
 * {@link dmabuf.pipeline.api.PipelineStatusDTO} is a snapshot: frames done, frames per second, per-stage latency,
 * bytes copied on the frame path (zero unless a stage had to copy, which the report then names), live buffers and
 * bytes the pipeline holds, and the CRC of the last frame the display scanned out.
 */
@Version("1.2.0")
@Export
package dmabuf.pipeline.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
