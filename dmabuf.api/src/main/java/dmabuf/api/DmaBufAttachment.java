package dmabuf.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One device's attachment to a buffer, as the kernel's {@code struct dma_buf_attachment}. Created by
 * {@link DmaBufRegistry#attach} or {@link DmaBufRegistry#dynamicAttach}, ended by {@link DmaBufRegistry#detach}.
 * Only the core implements it.
 */
@ProviderType
public interface DmaBufAttachment {
    /** The buffer this attachment belongs to. */
    DmaBuf dmaBuf();

    /** The attached device and its constraints. */
    Device device();

    /** True when the importer gave {@link DmaBufImporterOps} and so can be told to drop its mappings. */
    boolean isDynamic();

    /** True while the attachment is linked to its buffer (between attach and detach or revocation). */
    boolean isAttached();

    /** The exporter's private data for this attachment (the kernel's {@code attach->priv}), or null. */
    Object exporterPrivate();

    /** Sets the exporter's private data; meant for the exporter's {@link DmaBufOps#attach attach}. */
    void setExporterPrivate(Object priv);
}
