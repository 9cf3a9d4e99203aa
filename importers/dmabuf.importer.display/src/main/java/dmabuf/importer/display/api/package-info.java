/**
 * The display importer's service: a {@link dmabuf.importer.display.api.Display} is a display controller (a KMS crtc)
 * that scans out XRGB8888 framebuffers shared as dma-bufs. Its device needs physically contiguous memory within its
 * DMA mask, so a buffer it cannot scan out is refused at attach with the exporter's errno. Each
 * {@link dmabuf.importer.display.api.Display#pageFlip page flip} computes the CRC-32 of the visible frame (as KMS
 * pipe CRCs let tests check what a display shows) and the display can write the frame on screen as a PNG.
 */
@Version("1.0.0")
@Export
package dmabuf.importer.display.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
