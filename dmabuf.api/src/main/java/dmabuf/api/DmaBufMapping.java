package dmabuf.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A CPU mapping of part of a buffer made by {@link DmaBufRegistry#mmap mmap}. Like a real mapping it holds a
 * reference to the buffer until it is closed ({@code munmap}), so the buffer outlives the fd it was made from.
 * Only the core implements it.
 */
@ProviderType
public interface DmaBufMapping extends AutoCloseable {
    /** The buffer this mapping shows. */
    DmaBuf dmaBuf();

    /**
     * The mapped bytes, exactly {@link #length()} long, read-only unless mapped with {@link DmaBufUapi#PROT_WRITE}.
     * Scoped to the buffer: after the buffer is released or revoked, an access throws
     * {@link IllegalStateException}.
     */
    MemorySegment segment();

    /** The byte offset in the buffer where the mapping starts. */
    long offset();

    /** The mapping's length in bytes: the requested length rounded up to whole pages; it never grows. */
    long length();

    /** The protection it was mapped with. */
    int prot();

    /** True until {@link #close()}. */
    boolean isMapped();

    /** Unmaps ({@code munmap}) and drops the mapping's reference. Closing twice does nothing. */
    @Override
    void close();
}
