package dmabuf.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Callbacks of a dynamic importer, as the kernel's {@code dma_buf_attach_ops}. Given to
 * {@link DmaBufRegistry#dynamicAttach}.
 */
@ConsumerType
public interface DmaBufImporterOps {
    /**
     * The exporter is about to move the buffer's storage, or the buffer is being revoked: tables mapped for this
     * attachment are about to become invalid ({@code move_notify}, renamed {@code invalidate_mappings} in Linux 7.1).
     * The importer stops using them and unmaps them; it maps again later if the buffer is still alive. Called
     * without the buffer's lock held; it may call {@link DmaBufRegistry#unmapAttachment} and
     * {@link DmaBufRegistry#detach}. An exception it throws is logged and otherwise ignored.
     *
     * @param attachment the attachment whose mappings are invalidated
     */
    void invalidateMappings(DmaBufAttachment attachment);
}
