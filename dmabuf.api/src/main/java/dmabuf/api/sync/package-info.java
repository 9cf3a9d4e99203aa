/**
 * Synchronisation between the devices that share a buffer: the kernel's {@code dma_fence}, {@code dma_resv} and
 * wound/wait mutexes, as Java types.
 *
 * <h2>DOC: fences</h2>
 * A {@link dmabuf.api.sync.DmaFence} is a one-shot completion event of some asynchronous work (a GPU job, a capture,
 * a scanout). The driver that does the work creates the fence on its {@link dmabuf.api.sync.FenceContext} (a
 * timeline whose sequence numbers grow), publishes it in the reservation object of every buffer the work touches,
 * and signals it when the work is done (after {@link dmabuf.api.sync.DmaFence#setError setError} if it failed).
 * Waiters wait with a bound, register a callback, or chain on {@link dmabuf.api.sync.DmaFence#whenSignaled()}.
 *
 * <h2>DOC: reservation objects and implicit sync</h2>
 * Every buffer has a {@link dmabuf.api.sync.DmaResv} ({@link dmabuf.api.DmaBuf#resv()}). A job that uses buffers
 * locks their reservation objects together through one {@link dmabuf.api.sync.AcquireContext} (in any order, from
 * any number of threads, without deadlock), reserves fence slots, adds its fence with the usage that says what it
 * does ({@link dmabuf.api.sync.DmaResvUsage#WRITE WRITE} on what it produces, {@link
 * dmabuf.api.sync.DmaResvUsage#READ READ} on what it consumes) and unlocks; it waits for the WRITE fences of its
 * inputs and the READ fences of its outputs before it starts. The core honours the fences too: a CPU reader waits
 * for writers, a CPU writer for everyone, a static importer's map for KERNEL fences, each wait bounded.
 *
 * <h2>DOC: sync files</h2>
 * A sync file is an fd of a bundle holding one fence: {@code exportSyncFile} snapshots what a reader or writer of a
 * buffer must wait for, {@code importSyncFile} adds a sync file's fence to a buffer (explicit to implicit sync).
 *
 * <h2>DOC: bundles that go away</h2>
 * When a bundle stops, every fence its contexts left unsignalled is signalled with {@link dmabuf.api.Errno#ENODEV},
 * and every acquire context it left open is closed (its reservation locks released), so no waiter anywhere hangs on
 * a driver that is gone.
 */
@Version("1.0.0")
@Export
package dmabuf.api.sync;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
