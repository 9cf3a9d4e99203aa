package dmabuf.heap.memfd;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.NativeException;

/**
 * A real kernel dma-buf from {@code /dev/dma_heap/*}: {@link FileBufferOps} over its fd, whose CPU-access brackets are
 * the kernel's own {@code DMA_BUF_IOCTL_SYNC} (START then END with the direction's READ/WRITE flags), so the
 * exporter in the kernel does its cache maintenance.
 */
final class KernelBufferOps extends FileBufferOps {
    /**
     * @param what      a description for messages
     * @param dmabufFd  the kernel dma-buf's fd, owned from now on
     * @param region    the dma-buf mapped whole
     * @param onRelease told after the mapping and the fd are gone
     */
    KernelBufferOps(String what, int dmabufFd, MappedRegion region, Consumer<MappedBufferOps> onRelease) {
        super(what, dmabufFd, region, onRelease);
    }

    /** {@code DMA_BUF_IOCTL_SYNC} with START: the kernel invalidates what the CPU is about to read. */
    @Override
    public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        sync(syncFlags(direction) | DmaBufUapi.DMA_BUF_SYNC_START);
    }

    /** {@code DMA_BUF_IOCTL_SYNC} with END: the kernel flushes what the CPU wrote. */
    @Override
    public void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
        sync(syncFlags(direction) | DmaBufUapi.DMA_BUF_SYNC_END);
    }

    /** The SYNC flags of a direction: the CPU reads what the device wrote, writes what the device reads. */
    static long syncFlags(DmaDataDirection direction) {
        return switch (direction) {
            case FROM_DEVICE -> DmaBufUapi.DMA_BUF_SYNC_READ;
            case TO_DEVICE -> DmaBufUapi.DMA_BUF_SYNC_WRITE;
            default -> DmaBufUapi.DMA_BUF_SYNC_RW;
        };
    }

    private void sync(long flags) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment arg = a.allocate(JAVA_LONG); // struct dma_buf_sync { __u64 flags; }
            arg.set(JAVA_LONG, 0, flags);
            Libc.ioctl(fd(), DmaBufUapi.DMA_BUF_IOCTL_SYNC, arg);
        } catch (NativeException e) {
            throw OsErrors.failed("DMA_BUF_IOCTL_SYNC(0x" + Long.toHexString(flags) + ") on " + this, e);
        }
    }
}
