package dmabuf.exporter.v4l2;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.memory.PageAllocation;

/**
 * The memory of one capture buffer and the rules between the device's DMA and the CPU on it (the fences of the
 * buffer's reservation object, in the kernel):
 * <ul>
 * <li>The device writes only while no CPU-access bracket is open on the buffer: {@link #beginDma} waits for open
 * brackets to end (a CPU that reads or writes the frame must not see it change under it).</li>
 * <li>A CPU-access bracket waits for the device's write in progress to finish ({@link #beginCpu}, as
 * {@code dma_buf_begin_cpu_access} waits for the write fence), bounded: {@link Errno#EAGAIN} after the bound, as
 * {@code DMA_BUF_IOCTL_SYNC} may return.</li>
 * <li>The allocation is freed exactly once ({@link #free}), after a write in progress finished; the device never
 * writes a freed buffer.</li>
 * </ul>
 * The counts let tests see the brackets the core passed on.
 */
final class BufferStorage {
    /** How long a CPU-access bracket waits for the device's write in progress. */
    static final long CPU_WAIT_MS = 2_000;
    /** How long freeing waits for the device's write in progress before it frees anyway (and says so). */
    static final long FREE_WAIT_MS = 2_000;

    private final String label;
    private final int index;
    private final PageAllocation allocation;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean dmaActive;
    private int cpuBrackets;
    private boolean freed;

    private final AtomicLong cpuBegins = new AtomicLong();
    private final AtomicLong cpuEnds = new AtomicLong();
    private final AtomicLong dmaWrites = new AtomicLong();

    /**
     * @param device     the device's name, for messages
     * @param index      the buffer's index
     * @param allocation its pages
     */
    BufferStorage(String device, int index, PageAllocation allocation) {
        this.label = "capture buffer " + index + " of " + device;
        this.index = index;
        this.allocation = allocation;
    }

    int index() {
        return index;
    }

    PageAllocation allocation() {
        return allocation;
    }

    long size() {
        return allocation.size();
    }

    String label() {
        return label;
    }

    /**
     * The device is about to write: waits until no CPU-access bracket is open, in slices, as long as
     * {@code keepWaiting} says so.
     *
     * @param keepWaiting false once the stream stopped
     * @return the allocation's contiguous view to write into, or null when the buffer was freed or the wait was
     *         given up; on non-null the caller must call {@link #endDma()}
     */
    MemorySegment beginDma(BooleanSupplier keepWaiting) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (cpuBrackets > 0 && !freed) {
                if (!keepWaiting.getAsBoolean()) {
                    return null;
                }
                changed.await(10, TimeUnit.MILLISECONDS);
            }
            if (freed || !keepWaiting.getAsBoolean()) {
                return null;
            }
            MemorySegment view = allocation.contiguousView();
            dmaActive = true;
            return view;
        } finally {
            lock.unlock();
        }
    }

    /** The device's write is done. */
    void endDma() {
        lock.lock();
        try {
            dmaActive = false;
            dmaWrites.incrementAndGet();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A CPU-access bracket opens: waits (bounded) for the device's write in progress. */
    void beginCpu() {
        lock.lock();
        try {
            long left = TimeUnit.MILLISECONDS.toNanos(CPU_WAIT_MS);
            while (dmaActive) {
                if (left <= 0) {
                    throw new DmaBufException(Errno.EAGAIN, label + ": the device is still writing a frame after "
                            + CPU_WAIT_MS + " ms; begin CPU access again");
                }
                try {
                    left = changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DmaBufException(Errno.EINTR, label + ": interrupted while waiting for the device's "
                            + "write to finish");
                }
            }
            cpuBrackets++;
            cpuBegins.incrementAndGet();
        } finally {
            lock.unlock();
        }
    }

    /** A CPU-access bracket closes. */
    void endCpu() {
        lock.lock();
        try {
            if (cpuBrackets > 0) {
                cpuBrackets--;
            }
            cpuEnds.incrementAndGet();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frees the pages back to the pool once: waits (bounded) for a write in progress.
     *
     * @return true when this call freed them
     */
    boolean free(DeviceLog log) {
        lock.lock();
        try {
            if (freed) {
                return false;
            }
            long left = TimeUnit.MILLISECONDS.toNanos(FREE_WAIT_MS);
            boolean interrupted = false;
            while (dmaActive && left > 0) {
                try {
                    left = changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    interrupted = true;
                    left = 0;
                }
            }
            if (dmaActive) {
                log.warn(label + ": freed while the device was still writing it (waited " + FREE_WAIT_MS + " ms)");
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            freed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        allocation.close();
        return true;
    }

    boolean isFreed() {
        lock.lock();
        try {
            return freed;
        } finally {
            lock.unlock();
        }
    }

    /** CPU-access brackets opened on this buffer. */
    long cpuBegins() {
        return cpuBegins.get();
    }

    /** CPU-access brackets closed on this buffer. */
    long cpuEnds() {
        return cpuEnds.get();
    }

    /** Frames the device wrote into this buffer. */
    long dmaWrites() {
        return dmaWrites.get();
    }

    /** CPU-access brackets open now. */
    int openCpuBrackets() {
        lock.lock();
        try {
            return cpuBrackets;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return label;
    }
}
