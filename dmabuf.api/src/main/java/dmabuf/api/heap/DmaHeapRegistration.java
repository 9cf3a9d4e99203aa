package dmabuf.api.heap;

import org.osgi.annotation.versioning.ProviderType;

/** A heap's registration under its name; closing it removes the heap. Only the core implements it. */
@ProviderType
public interface DmaHeapRegistration extends AutoCloseable {
    /** The heap's name. */
    String name();

    /** Removes the heap; later allocations from it are ENOENT. Idempotent. */
    @Override
    void close();
}
