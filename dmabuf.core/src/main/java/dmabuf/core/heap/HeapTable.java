package dmabuf.core.heap;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.heap.DmaHeap;
import dmabuf.api.heap.DmaHeapRegistration;
import dmabuf.api.runtime.HeapDTO;
import dmabuf.core.DmaBufCore;
import dmabuf.core.Errors;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.leak.TrackedDmaBuf;
import dmabuf.core.client.Client;
import dmabuf.core.client.Holding;
import dmabuf.core.file.OpenFile;

/**
 * The registered dma-heaps ({@code /dev/dma_heap/}) and {@code DMA_HEAP_IOCTL_ALLOC}: the request is checked as the
 * kernel checks it before the heap sees it, and the heap's buffer is checked before its reference moves into the
 * caller's fd, so a heap driver cannot hand out a wrong-sized or foreign buffer.
 */
public final class HeapTable {
    private record Entry(String name, Client owner, DmaHeap heap) {
    }

    private final DmaBufCore core;
    private final Map<String, Entry> heaps = new TreeMap<>();

    /** @param core the core */
    public HeapTable(DmaBufCore core) {
        this.core = core;
    }

    /** {@code dma_heap_add}. */
    public DmaHeapRegistration add(Client owner, String name, DmaHeap heap) {
        if (name == null || name.isEmpty() || name.indexOf('/') >= 0) {
            throw Errors.einval("a dma-heap needs a name that is not empty and has no '/', not '" + name + "'");
        }
        if (heap == null) {
            throw Errors.einval("dma-heap '" + name + "' has no allocator (DmaHeap is null)");
        }
        Entry entry = new Entry(name, owner, heap);
        synchronized (this) {
            Entry existing = heaps.get(name);
            if (existing != null) {
                throw Errors.einval("a dma-heap named '" + name + "' is already registered by "
                        + existing.owner().describe());
            }
            heaps.put(name, entry);
        }
        core.changed();
        return new DmaHeapRegistration() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void close() {
                remove(entry);
            }
        };
    }

    private void remove(Entry entry) {
        boolean removed;
        synchronized (this) {
            removed = heaps.remove(entry.name(), entry);
        }
        if (removed) {
            core.changed();
        }
    }

    /** Removes the heaps of a bundle that went away. */
    public void removeAll(Client owner) {
        List<Entry> gone = new ArrayList<>();
        synchronized (this) {
            heaps.values().removeIf(e -> e.owner() == owner && gone.add(e));
        }
        if (!gone.isEmpty()) {
            core.log().info(owner.describe() + " went away: dma-heap(s) " + gone.stream().map(Entry::name).toList()
                    + " removed");
            core.changed();
        }
    }

    /** The heap names, sorted. */
    public synchronized List<String> names() {
        return List.copyOf(heaps.keySet());
    }

    /** The heaps for the runtime DTO. */
    public synchronized List<HeapDTO> dtos() {
        List<HeapDTO> out = new ArrayList<>();
        for (Entry e : heaps.values()) {
            HeapDTO dto = new HeapDTO();
            dto.name = e.name();
            dto.bundleId = e.owner().bundleId();
            out.add(dto);
        }
        return out;
    }

    /** {@code DMA_HEAP_IOCTL_ALLOC}: returns the caller's new fd. */
    public int allocate(Client caller, String heapName, long length, int fdFlags, long heapFlags) {
        if ((fdFlags & ~(DmaBufUapi.O_ACCMODE | DmaBufUapi.O_CLOEXEC)) != 0
                || (fdFlags & DmaBufUapi.O_ACCMODE) == DmaBufUapi.O_ACCMODE) {
            throw Errors.einval(String.format("heap fd flags 0x%x: only O_CLOEXEC and an access mode are allowed",
                    fdFlags));
        }
        if (heapFlags != 0) {
            throw Errors.einval(String.format("heap flags 0x%x: no heap flags are defined, they must be 0",
                    heapFlags));
        }
        long aligned = Errors.pageAlign(length);
        if (aligned == 0) {
            throw Errors.einval("heap allocation of " + Long.toUnsignedString(length) + " bytes is "
                    + (length == 0 ? "empty" : "so large that it wraps around when page-aligned"));
        }
        if (aligned < 0) {
            throw Errors.error(Errno.ENOMEM, "heap allocation of " + Long.toUnsignedString(aligned)
                    + " bytes: no heap can give 2^63 bytes or more");
        }
        Entry e;
        synchronized (this) {
            e = heaps.get(heapName);
        }
        if (e == null) {
            throw Errors.error(Errno.ENOENT, "no dma-heap named '" + heapName + "'; registered heaps: " + names());
        }
        DmaBuf result;
        try {
            result = e.heap().allocate(aligned, fdFlags & DmaBufUapi.O_ACCMODE, heapFlags, caller.bundleId());
        } catch (DmaBufException refusal) {
            throw refusal;
        } catch (Exception | LinkageError bug) {
            String message = "dma-heap '" + heapName + "' of " + e.owner().describe() + " threw " + bug
                    + " from allocate";
            core.log().error(message, bug);
            throw new DmaBufException(Errno.EIO, message, bug);
        }
        Buffer b = checkResult(e, result, aligned);
        try {
            int fd = caller.files().install(new OpenFile(b, fdFlags), core.config().fdLimit());
            core.changed();
            return fd;
        } catch (RuntimeException noFd) {
            core.lifecycle().dropRef(b); // as dma_heap_buffer_alloc: the buffer goes when its fd cannot be made
            throw noFd;
        }
    }

    /** Checks the heap's buffer and takes the heap's reference from it, to be moved into the caller's fd. */
    private Buffer checkResult(Entry e, DmaBuf result, long length) {
        String problem;
        Buffer b = null;
        if (result instanceof TrackedDmaBuf handle) {
            result = handle.buffer(); // the leak detector's handle of a buffer the heap exported
        }
        if (!(result instanceof Buffer candidate) || !candidate.belongsTo(core)) {
            problem = "returned " + (result == null ? "null" : "an object that is not a buffer of this core");
        } else if (candidate.owner() != e.owner()) {
            problem = "returned " + candidate + ", which its bundle did not export";
        } else {
            b = candidate;
            Holding h = e.owner().existingHolding(b);
            if (h == null || !h.removeRef()) {
                problem = "returned " + b + " without holding a reference to it";
                b = null;
            } else if (b.size() != length) {
                problem = "returned " + b + " for a request of " + length + " bytes";
                core.lifecycle().dropRef(b);
                b = null;
            } else {
                problem = null;
            }
        }
        if (problem != null) {
            String message = "dma-heap '" + e.name() + "' of " + e.owner().describe() + " " + problem;
            core.log().error(message, null);
            throw Errors.error(Errno.EIO, message);
        }
        return b;
    }
}
