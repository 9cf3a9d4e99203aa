/**
 * What the dma-buf core shows about itself: the {@link dmabuf.api.runtime.DmaBufRuntime} service and its DTOs
 * (exporters, importers, rejected drivers, buffers, attachments, per-bundle holdings, leaks).
 * <p>
 * DTOs follow the OSGi DTO rules: public fields, no behaviour, a snapshot that never changes after it is returned.
 */
@Version("1.1.0")
@Export
package dmabuf.api.runtime;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
