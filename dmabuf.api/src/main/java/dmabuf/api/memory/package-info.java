/**
 * The platform's physical memory, as exporters see it: page frames with physical (bus) addresses, carved into
 * pools when a device starts, allocated scattered or contiguous within a DMA mask, and accounted per bundle.
 *
 * <h2>DOC: the model</h2>
 * Memory is real: each {@link dmabuf.api.memory.PagePool} is off-heap memory reserved, pre-faulted and owned by the
 * bundle that created it, placed at a range of <em>physical addresses</em> in a zone: below 4 GiB for pools whose
 * DMA mask is 32-bit (the kernel's {@code ZONE_DMA32}), above it otherwise. A pool is either
 * {@link dmabuf.api.memory.Placement#SCATTERED SCATTERED} (system pages: an allocation is a list of page runs in no
 * particular physical order) or {@link dmabuf.api.memory.Placement#CONTIGUOUS CONTIGUOUS} (a CMA-like reserved region:
 * an allocation is one run). Allocations are whole 4 KiB pages, zeroed before they are handed out.
 * <p>
 * A {@link dmabuf.api.memory.PageAllocation} builds the {@link dmabuf.api.SgTable} a device needs (runs merged where
 * physically adjacent and split to the device's maximum segment size) or says why the device cannot use it (mask,
 * contiguity, segment count), which is what an exporter's {@code attach} and {@code map} need. An importer's device
 * "does DMA" by resolving the table's bus addresses with {@link dmabuf.api.memory.PhysicalMemory#resolve}: the memory
 * itself, never a copy.
 *
 * <h2>DOC: accounting</h2>
 * The memory a pool reserves counts against a global limit. Allocations count against the quota of the bundle they
 * are charged to (the pool's owner, or the bundle an exporter allocates for, as a heap does for its caller). Going
 * over either is {@link dmabuf.api.Errno#ENOMEM} with a message that names who is over and by how much. Live and
 * peak bytes per pool and per bundle are visible in {@link dmabuf.api.memory.PhysicalMemory#stats()}: off-heap bytes
 * are invisible to {@code -Xmx} and heap dumps, so this is how an operator sees them.
 */
@Version("1.0.0")
@Export
package dmabuf.api.memory;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
