package dmabuf.core;

import java.lang.foreign.MemorySegment;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.ExportInfo;
import dmabuf.api.FdInfo;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.core.client.Client;

/**
 * The door of a bundle's registry: every call enters through {@link Client#enterCall()} (ENODEV once the bundle
 * stopped) and leaves through {@link Client#exitCall()}, then the {@link BundleRegistry} does the work.
 * <p>
 * DOC: bundle stop racing the bundle's own calls. When a bundle stops, the core waits (bounded) for the calls that
 * got in before the stop, then reclaims. A call therefore either completes, and what it took is reclaimed, or fails
 * with ENODEV. Without the door a call that passed the check just before the stop could add a reference, fd, vmap or
 * attachment after the reclaim had run, which nobody would ever give back.
 */
final class GatedRegistry extends dmabuf.core.sync.GatedFences implements DmaBufRegistry {
    private final Client client;
    private final DmaBufRegistry registry;

    GatedRegistry(Client client, DmaBufRegistry registry) {
        super(client, registry);
        this.client = client;
        this.registry = registry;
    }

    @Override
    public DmaBuf export(ExportInfo info) {
        client.enterCall();
        try {
            return registry.export(info);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public int fd(DmaBuf dmaBuf, int flags) {
        client.enterCall();
        try {
            return registry.fd(dmaBuf, flags);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public DmaBuf get(int fd) {
        client.enterCall();
        try {
            return registry.get(fd);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public DmaBuf get(DmaBuf dmaBuf) {
        client.enterCall();
        try {
            return registry.get(dmaBuf);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public int osFd(DmaBuf dmaBuf, int flags) {
        client.enterCall();
        try {
            return registry.osFd(dmaBuf, flags);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void put(DmaBuf dmaBuf) {
        client.enterCall();
        try {
            registry.put(dmaBuf);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public int dup(int fd) {
        client.enterCall();
        try {
            return registry.dup(fd);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void close(int fd) {
        client.enterCall();
        try {
            registry.close(fd);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void revoke(DmaBuf dmaBuf) {
        client.enterCall();
        try {
            registry.revoke(dmaBuf);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void invalidateMappings(DmaBuf dmaBuf) {
        client.enterCall();
        try {
            registry.invalidateMappings(dmaBuf);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public DmaBufAttachment attach(DmaBuf dmaBuf, Device device) {
        client.enterCall();
        try {
            return registry.attach(dmaBuf, device);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public DmaBufAttachment dynamicAttach(DmaBuf dmaBuf, Device device, DmaBufImporterOps importerOps) {
        client.enterCall();
        try {
            return registry.dynamicAttach(dmaBuf, device, importerOps);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void detach(DmaBufAttachment attachment) {
        client.enterCall();
        try {
            registry.detach(attachment);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void pin(DmaBufAttachment attachment) {
        client.enterCall();
        try {
            registry.pin(attachment);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void unpin(DmaBufAttachment attachment) {
        client.enterCall();
        try {
            registry.unpin(attachment);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public SgTable mapAttachment(DmaBufAttachment attachment, DmaDataDirection direction) {
        client.enterCall();
        try {
            return registry.mapAttachment(attachment, direction);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void unmapAttachment(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        client.enterCall();
        try {
            registry.unmapAttachment(attachment, table, direction);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction) {
        client.enterCall();
        try {
            registry.beginCpuAccess(dmaBuf, direction);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        client.enterCall();
        try {
            registry.beginCpuAccess(dmaBuf, direction, offset, length);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction) {
        client.enterCall();
        try {
            registry.endCpuAccess(dmaBuf, direction);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        client.enterCall();
        try {
            registry.endCpuAccess(dmaBuf, direction, offset, length);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        client.enterCall();
        try {
            return registry.kmap(dmaBuf, pageIndex);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        client.enterCall();
        try {
            registry.kunmap(dmaBuf, pageIndex, page);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public MemorySegment kmapAtomic(DmaBuf dmaBuf, long pageIndex) {
        client.enterCall();
        try {
            return registry.kmapAtomic(dmaBuf, pageIndex);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void kunmapAtomic(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        client.enterCall();
        try {
            registry.kunmapAtomic(dmaBuf, pageIndex, page);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        client.enterCall();
        try {
            return registry.vmap(dmaBuf);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
        client.enterCall();
        try {
            registry.vunmap(dmaBuf, map);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public DmaBufMapping mmap(int fd, long offset, long length, int prot) {
        client.enterCall();
        try {
            return registry.mmap(fd, offset, length, prot);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public DmaBufMapping mmap(DmaBuf dmaBuf, VmArea vma) {
        client.enterCall();
        try {
            return registry.mmap(dmaBuf, vma);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public dmabuf.api.heap.DmaHeapRegistration addHeap(String name, dmabuf.api.heap.DmaHeap heap) {
        client.enterCall();
        try {
            return registry.addHeap(name, heap);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public java.util.List<String> heaps() {
        client.enterCall();
        try {
            return registry.heaps();
        } finally {
            client.exitCall();
        }
    }

    @Override
    public int heapAllocate(String heapName, long length, int fdFlags, long heapFlags) {
        client.enterCall();
        try {
            return registry.heapAllocate(heapName, length, fdFlags, heapFlags);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void sync(int fd, long flags) {
        client.enterCall();
        try {
            registry.sync(fd, flags);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public void setName(int fd, String name) {
        client.enterCall();
        try {
            registry.setName(fd, name);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public long ioctl(int fd, long request, Object arg) {
        client.enterCall();
        try {
            return registry.ioctl(fd, request, arg);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public long llseek(int fd, long offset, int whence) {
        client.enterCall();
        try {
            return registry.llseek(fd, offset, whence);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public FdInfo fdinfo(int fd) {
        client.enterCall();
        try {
            return registry.fdinfo(fd);
        } finally {
            client.exitCall();
        }
    }

    @Override
    public String bufinfo() {
        client.enterCall();
        try {
            return registry.bufinfo();
        } finally {
            client.exitCall();
        }
    }

    @Override
    public String toString() {
        return registry.toString();
    }
}
