/**
 * The encoder importer's service: an {@link dmabuf.importer.encoder.api.Encoder} is a V4L2-like memory-to-memory
 * codec that reads a raw frame in place through its attachment and returns the frame compressed as a zlib stream
 * (RFC 1950, deflate), one self-contained stream per frame.
 */
@Version("1.0.0")
@Export
package dmabuf.importer.encoder.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
