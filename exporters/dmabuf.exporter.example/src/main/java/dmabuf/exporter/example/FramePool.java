package dmabuf.exporter.example;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dmabuf.api.DmaBufUapi;

/**
 * The exporter's frame storage: ONE shared {@link Arena} holding a fixed number of page-aligned frame buffers
 * ("slots"), allocated and pre-touched up front, so producing a frame never allocates.
 * <p>
 * A slot is either free (in the queue) or lent to exactly one exported buffer; the buffer's
 * {@link FrameOps#release release} gives it back. The arena may only be closed once every slot is back: until the
 * core has run release for a buffer, importers may still hold views of its storage.
 */
final class FramePool implements AutoCloseable {
    /** The first fake bus address; each slot sits {@link #slotBytes()} above the previous one. */
    static final long BUS_BASE = 0x4000_0000L;

    /**
     * One frame buffer.
     *
     * @param index      the slot's number, from 0
     * @param storage    the slot's memory, whole pages
     * @param busAddress the fake bus address at which a device "sees" the slot
     */
    record Slot(int index, MemorySegment storage, long busAddress) {
    }

    private final Arena arena;
    private final long frameBytes;
    private final long slotBytes;
    private final List<Slot> slots;
    private final BlockingQueue<Slot> free;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition allFree = lock.newCondition();

    /**
     * Allocates and pre-touches the slots.
     *
     * @param poolSize   the number of frame buffers, at least 1
     * @param frameBytes the size of one frame in bytes, positive
     */
    FramePool(int poolSize, long frameBytes) {
        if (poolSize < 1) {
            throw new IllegalArgumentException("the pool needs at least one frame buffer, not " + poolSize);
        }
        if (frameBytes <= 0) {
            throw new IllegalArgumentException("a frame needs a positive size, not " + frameBytes);
        }
        this.frameBytes = frameBytes;
        this.slotBytes = pageAlign(frameBytes);
        // Shared: the producer thread writes, sinks read on it, and release may run on any thread.
        this.arena = Arena.ofShared();
        List<Slot> all = new ArrayList<>(poolSize);
        try {
            for (int i = 0; i < poolSize; i++) {
                MemorySegment storage = arena.allocate(slotBytes, DmaBufUapi.PAGE_SIZE);
                // Pre-touch: arena memory is zeroed by the JDK already; writing every page here still makes the
                // first frame pay no page faults, and documents that the storage starts out black.
                storage.fill((byte) 0);
                all.add(new Slot(i, storage, BUS_BASE + i * slotBytes));
            }
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            throw e;
        }
        this.slots = List.copyOf(all);
        this.free = new ArrayBlockingQueue<>(poolSize, false, all);
    }

    /** The size of one frame (the exported buffer's size). */
    long frameBytes() {
        return frameBytes;
    }

    /** The size of one slot: the frame rounded up to whole pages. */
    long slotBytes() {
        return slotBytes;
    }

    /** The number of slots. */
    int size() {
        return slots.size();
    }

    /** The number of slots not lent out. */
    int freeCount() {
        return free.size();
    }

    /**
     * Takes a free slot, waiting at most {@code timeout}.
     *
     * @return the slot, or null when none came free in time
     * @throws InterruptedException when the producer is being stopped
     */
    Slot take(long timeout, TimeUnit unit) throws InterruptedException {
        return free.poll(timeout, unit);
    }

    /** Takes a free slot without waiting, or null when every slot is lent out. */
    Slot poll() {
        return free.poll();
    }

    /** Slot {@code index}. */
    Slot slot(int index) {
        return slots.get(index);
    }

    /** Gives a slot back (its buffer was released, or never exported). */
    void give(Slot slot) {
        if (slots.get(slot.index()) != slot) {
            throw new IllegalArgumentException("slot " + slot.index() + " is not from this pool");
        }
        lock.lock();
        try {
            if (free.contains(slot)) {
                throw new IllegalStateException("slot " + slot.index() + " was given back twice");
            }
            free.add(slot);
            if (free.size() == slots.size()) {
                allFree.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every slot is back, at most {@code timeout}.
     *
     * @return true when every slot is free
     */
    boolean awaitAllFree(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            while (free.size() < slots.size()) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = allFree.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Frees the storage. Only legal once every slot is back (see the class comment): with a slot still lent out the
     * arena stays open and this throws, so no view can ever reach freed memory.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (free.size() != slots.size()) {
                throw new IllegalStateException((slots.size() - free.size())
                        + " frame buffer(s) still lent to live dma-bufs; the storage stays allocated");
            }
        } finally {
            lock.unlock();
        }
        arena.close();
    }

    /** True until {@link #close()} freed the storage. */
    boolean isOpen() {
        return arena.scope().isAlive();
    }

    static long pageAlign(long bytes) {
        return (bytes + DmaBufUapi.PAGE_SIZE - 1) & -DmaBufUapi.PAGE_SIZE;
    }
}
