package dmabuf.api.sync;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A timeline of fences, as a context from the kernel's {@code dma_fence_context_alloc}: one per engine or ring of a
 * driver. Fences it creates get growing sequence numbers. It belongs to the bundle that created it: when that bundle
 * stops, the fences it left unsignalled are signalled with {@link dmabuf.api.Errno#ENODEV}.
 * <p>
 * Thread-safe.
 */
@ProviderType
public interface FenceContext {
    /** The context id, unique while the core runs (never 0: that is the stub's). */
    long id();

    /** The driver's name, as its fences report it. */
    String driverName();

    /** The timeline's name, as its fences report it. */
    String timelineName();

    /**
     * A new unsignalled fence whose sequence number is greater than every earlier one of this context.
     *
     * @throws dmabuf.api.DmaBufException {@link dmabuf.api.Errno#ENODEV} once the owning bundle stopped
     */
    DmaFence createFence();

    /** How many fences of this context are still unsignalled. */
    int unsignaledCount();
}
