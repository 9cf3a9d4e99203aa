package dmabuf.core;

import java.lang.foreign.MemorySegment;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufImporterOps;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.FdInfo;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.core.attach.Attachment;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;
import dmabuf.core.file.OpenFile;
import dmabuf.core.mmap.Mapping;

/**
 * The registry one bundle sees: every call is made on behalf of that bundle's {@link Client}, after checking that
 * the bundle still uses the registry. The work is done by the core's concerns.
 */
final class BundleRegistry extends dmabuf.core.sync.BundleFences implements DmaBufRegistry {
    private final DmaBufCore core;
    private final Client client;

    BundleRegistry(DmaBufCore core, Client client) {
        super(core, client);
        this.core = core;
        this.client = client;
    }

    private Buffer buffer(DmaBuf dmaBuf) {
        client.checkOpen();
        return core.lifecycle().resolve(dmaBuf);
    }

    private Buffer owned(DmaBuf dmaBuf, String op) {
        Buffer b = buffer(dmaBuf);
        if (b.owner() != client) {
            throw Errors.error(Errno.EPERM, op + " of " + b + " by " + client.describe() + ": only its exporter "
                    + b.owner().describe() + " may do that");
        }
        return b;
    }

    /** The attachment shows the buffer as the handle its bundle knows (the leak detector's, when tracked). */
    private Attachment shown(Attachment a) {
        DmaBuf face = core.leakDetector().face(a.buffer(), client);
        if (face != a.buffer()) {
            a.showAs(face);
        }
        return a;
    }

    /** The mapping shows the buffer as the handle its bundle knows (the leak detector's, when tracked). */
    private Mapping shown(Mapping m) {
        DmaBuf face = core.leakDetector().face(m.buffer(), client);
        if (face != m.buffer()) {
            m.showAs(face);
        }
        return m;
    }

    private OpenFile file(int fd) {
        client.checkOpen();
        return client.files().get(fd);
    }

    @Override
    public DmaBuf export(ExportInfo info) {
        client.checkOpen();
        return core.leakDetector().exported(core.lifecycle().export(client, info), client);
    }

    @Override
    public int fd(DmaBuf dmaBuf, int flags) {
        return core.lifecycle().installFd(client, buffer(dmaBuf), flags);
    }

    @Override
    public DmaBuf get(int fd) {
        client.checkOpen();
        return core.leakDetector().face(core.lifecycle().getByFd(client, fd), client);
    }

    @Override
    public DmaBuf get(DmaBuf dmaBuf) {
        Buffer b = buffer(dmaBuf);
        core.lifecycle().get(client, b);
        return core.leakDetector().face(b, client);
    }

    @Override
    public int osFd(DmaBuf dmaBuf, int flags) {
        Buffer b = buffer(dmaBuf);
        if ((flags & ~DmaBufUapi.O_CLOEXEC) != 0) {
            throw Errors.einval(String.format("osFd flags 0x%x: only O_CLOEXEC (0x%x) or 0 are allowed", flags,
                    DmaBufUapi.O_CLOEXEC));
        }
        b.checkLive();
        if (b.owner() != client && client.existingHolding(b) == null) {
            throw Errors.error(Errno.EACCES, "osFd of " + b + " by " + client.describe()
                    + ", which holds no reference or fd of it: take one first (get)");
        }
        if (!b.implementsOp(dmabuf.core.buffer.OpsContract.Op.OS_FD)) {
            throw Errors.einval("exporter '" + b.exporterName() + "' of " + b + " has no OS file descriptor (its "
                    + "storage is not a file a native process could map); allocate from a heap backed by one, e.g. "
                    + "memfd");
        }
        boolean closeOnExec = (flags & DmaBufUapi.O_CLOEXEC) != 0;
        b.enter(); // a revoke waits for this call before release closes the exporter's fd
        try {
            return b.ops().osFd(b, closeOnExec);
        } catch (Exception | LinkageError e) {
            throw core.guard().failed(b, "osFd", e);
        } finally {
            b.exit();
        }
    }

    @Override
    public void put(DmaBuf dmaBuf) {
        core.lifecycle().put(client, buffer(dmaBuf));
    }

    @Override
    public int dup(int fd) {
        client.checkOpen();
        return core.lifecycle().dup(client, fd);
    }

    @Override
    public void close(int fd) {
        client.checkOpen();
        core.lifecycle().close(client, fd);
    }

    @Override
    public void revoke(DmaBuf dmaBuf) {
        Buffer b = owned(dmaBuf, "revoke");
        if (b.state() == Buffer.State.RELEASED) {
            throw b.notLive(Buffer.State.RELEASED);
        }
        core.lifecycle().revoke(b, "revoked by its exporter");
    }

    @Override
    public void invalidateMappings(DmaBuf dmaBuf) {
        Buffer b = owned(dmaBuf, "invalidateMappings");
        b.checkLive();
        core.lifecycle().notifyImporters(b);
    }

    @Override
    public DmaBufAttachment attach(DmaBuf dmaBuf, Device device) {
        return shown(core.attachments().attach(client, buffer(dmaBuf), device, null, false));
    }

    @Override
    public DmaBufAttachment dynamicAttach(DmaBuf dmaBuf, Device device, DmaBufImporterOps importerOps) {
        return shown(core.attachments().attach(client, buffer(dmaBuf), device, importerOps, true));
    }

    @Override
    public void detach(DmaBufAttachment attachment) {
        client.checkOpen();
        core.attachments().detach(client, attachment);
    }

    @Override
    public void pin(DmaBufAttachment attachment) {
        client.checkOpen();
        core.attachments().pin(client, attachment);
    }

    @Override
    public void unpin(DmaBufAttachment attachment) {
        client.checkOpen();
        core.attachments().unpin(client, attachment);
    }

    @Override
    public SgTable mapAttachment(DmaBufAttachment attachment, DmaDataDirection direction) {
        client.checkOpen();
        return core.attachments().map(client, attachment, direction);
    }

    @Override
    public void unmapAttachment(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        client.checkOpen();
        core.attachments().unmap(client, attachment, table, direction);
    }

    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction) {
        Buffer b = buffer(dmaBuf);
        core.cpuAccess().begin(client, b, direction, 0, b.size());
    }

    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        core.cpuAccess().begin(client, buffer(dmaBuf), direction, offset, length);
    }

    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction) {
        Buffer b = buffer(dmaBuf);
        core.cpuAccess().end(client, b, direction, 0, b.size());
    }

    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        core.cpuAccess().end(client, buffer(dmaBuf), direction, offset, length);
    }

    @Override
    public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
        return core.cpuAccess().kmap(client, buffer(dmaBuf), pageIndex, false);
    }

    @Override
    public void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        core.cpuAccess().kunmap(client, buffer(dmaBuf), pageIndex, page, false);
    }

    @Override
    public MemorySegment kmapAtomic(DmaBuf dmaBuf, long pageIndex) {
        return core.cpuAccess().kmap(client, buffer(dmaBuf), pageIndex, true);
    }

    @Override
    public void kunmapAtomic(DmaBuf dmaBuf, long pageIndex, MemorySegment page) {
        core.cpuAccess().kunmap(client, buffer(dmaBuf), pageIndex, page, true);
    }

    @Override
    public MemorySegment vmap(DmaBuf dmaBuf) {
        return core.vmaps().vmap(client, buffer(dmaBuf));
    }

    @Override
    public void vunmap(DmaBuf dmaBuf, MemorySegment map) {
        core.vmaps().vunmap(client, buffer(dmaBuf), map);
    }

    @Override
    public DmaBufMapping mmap(int fd, long offset, long length, int prot) {
        client.checkOpen();
        return shown(core.mmaps().mmap(client, fd, offset, length, prot));
    }

    @Override
    public DmaBufMapping mmap(DmaBuf dmaBuf, VmArea vma) {
        return shown(core.mmaps().mmap(client, buffer(dmaBuf), vma));
    }

    @Override
    public dmabuf.api.heap.DmaHeapRegistration addHeap(String name, dmabuf.api.heap.DmaHeap heap) {
        client.checkOpen();
        return core.heaps().add(client, name, heap);
    }

    @Override
    public java.util.List<String> heaps() {
        client.checkOpen();
        return core.heaps().names();
    }

    @Override
    public int heapAllocate(String heapName, long length, int fdFlags, long heapFlags) {
        client.checkOpen();
        return core.heaps().allocate(client, heapName, length, fdFlags, heapFlags);
    }

    @Override
    public void sync(int fd, long flags) {
        client.checkOpen();
        core.cpuAccess().sync(client, fd, flags);
    }

    @Override
    public void setName(int fd, String name) {
        Buffer b = file(fd).buffer();
        String checked = BufferLifecycle.checkName(name);
        b.checkLive();
        b.setName(checked);
        core.changed();
    }

    @Override
    public long ioctl(int fd, long request, Object arg) {
        file(fd);
        if (request == DmaBufUapi.DMA_BUF_IOCTL_SYNC) {
            if (!(arg instanceof Long flags)) {
                throw Errors.error(Errno.EFAULT, "DMA_BUF_IOCTL_SYNC takes its flags as a Long, not "
                        + (arg == null ? "null" : arg.getClass().getSimpleName()));
            }
            sync(fd, flags);
            return 0;
        }
        if (request == DmaBufUapi.DMA_BUF_SET_NAME_A || request == DmaBufUapi.DMA_BUF_SET_NAME_B) {
            if (!(arg instanceof String name)) {
                throw Errors.error(Errno.EFAULT, "DMA_BUF_SET_NAME takes the name as a String, not "
                        + (arg == null ? "null" : arg.getClass().getSimpleName()));
            }
            setName(fd, name);
            return 0;
        }
        if (request == DmaBufUapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE
                || request == DmaBufUapi.DMA_BUF_IOCTL_IMPORT_SYNC_FILE) {
            if (!(arg instanceof long[] io) || io.length != 2) {
                throw Errors.error(Errno.EFAULT, "the sync-file ioctls take a long[2] {flags, fd}");
            }
            if (request == DmaBufUapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE) {
                io[1] = exportSyncFile(fd, io[0]);
            } else {
                if (io[1] < 0 || io[1] > Integer.MAX_VALUE) {
                    throw Errors.error(Errno.EBADF, "IMPORT_SYNC_FILE: " + io[1] + " is not an fd");
                }
                importSyncFile(fd, (int) io[1], io[0]);
            }
            return 0;
        }
        throw Errors.error(Errno.ENOTTY, String.format("ioctl 0x%x is not a dma-buf ioctl", request));
    }

    @Override
    public long llseek(int fd, long offset, int whence) {
        Buffer b = file(fd).buffer();
        if (offset == 0 && whence == DmaBufUapi.SEEK_END) {
            return b.size();
        }
        if (offset == 0 && whence == DmaBufUapi.SEEK_SET) {
            return 0;
        }
        throw Errors.einval("llseek(" + offset + ", whence " + whence + ") on a dma-buf: only (0, SEEK_SET) and "
                + "(0, SEEK_END) are allowed");
    }

    @Override
    public FdInfo fdinfo(int fd) {
        OpenFile f = file(fd);
        Buffer b = f.buffer();
        return new FdInfo(b.size(), b.refCount(), b.exporterName(), b.currentName(), f.flags(), b.id());
    }

    @Override
    public String bufinfo() {
        client.checkOpen();
        return core.snapshots().bufinfo();
    }

    @Override
    public String toString() {
        return "DmaBufRegistry of " + client.describe();
    }
}
