/**
 * The GPU importer's service: {@link dmabuf.importer.gpu.api.ColourRenderer} renders a camera frame imported as a
 * texture (NV12 or RGBA) into an XRGB8888 framebuffer, converting YCbCr with BT.601 (limited range) and applying a
 * {@link dmabuf.importer.gpu.api.ColourMatrix}, reading the source and writing the target in place (no intermediate
 * copy of the frame). {@link dmabuf.importer.gpu.api.ReferenceTransform} is the same transform as a pure function
 * over byte arrays, for tests and tools that check a rendered frame.
 */
@Version("1.0.0")
@Export
package dmabuf.importer.gpu.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
