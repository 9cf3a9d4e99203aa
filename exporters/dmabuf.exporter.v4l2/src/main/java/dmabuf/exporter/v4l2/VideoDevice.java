package dmabuf.exporter.v4l2;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.api.memory.PoolSpec;
import dmabuf.exporter.v4l2.api.BufferInfo;
import dmabuf.exporter.v4l2.api.BufferState;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.Frame;
import dmabuf.exporter.v4l2.api.PixelFormat;
import dmabuf.exporter.v4l2.api.TestPattern;

/**
 * The capture device itself, free of OSGi: the {@code videobuf2} queue, the frame generator and the buffers' storage.
 * The DS component creates one per configuration; tests create it with a core and a memory engine of their own.
 *
 * <h2>DOC: locking</h2>
 * {@link #control} serializes the control calls (S_FMT, REQBUFS, STREAMON, STREAMOFF, EXPBUF, reconfiguration,
 * close), as the video device's lock does in the kernel; it is held across the bounded wait for the generator to
 * stop. {@link #state} guards the buffers' states and the two queues; QBUF, DQBUF and the generator take only it, and
 * DQBUF waits on it without holding {@link #control}. The generator never takes {@link #control}. Calls into the
 * dma-buf registry (export, put, revoke) are made with {@link #control} held and {@link #state} not held, since
 * release calls back into {@link #released}.
 *
 * <h2>DOC: the generator</h2>
 * A single thread owned by the device, created at STREAMON and stopped at STREAMOFF and close (interrupted, then a
 * bounded wait). At a frame rate it ticks at a fixed rate and fills the oldest queued buffer, or drops the frame
 * (the sequence counter still advances) when none is queued; at frame rate 0 each QBUF wakes it to fill every queued
 * buffer in order. A fill writes {@link TestPattern} straight into the allocation's memory, as a device's DMA would,
 * between {@link BufferStorage#beginDma} and {@link BufferStorage#endDma}, then moves the buffer to the done queue.
 * A stream generation number keeps a late fill of a stopped stream from reaching the done queue of a new one.
 */
final class VideoDevice implements CaptureDevice {
    /** The longest STREAMOFF and close wait for the generator thread to end. */
    static final long STOP_WAIT_MS = 5_000;
    /** The EXPBUF flag bits the kernel accepts. */
    static final int EXPBUF_FLAGS = DmaBufUapi.O_CLOEXEC | DmaBufUapi.O_ACCMODE;

    /** One buffer of the queue. Fields guarded by {@link VideoDevice#state}, except as noted. */
    static final class CaptureBuffer {
        final int index;
        final BufferStorage storage;
        BufferState state = BufferState.DEQUEUED;
        /** The frame it holds while DONE. */
        Frame frame;
        /** The export the device holds a reference to, or null; written under {@link VideoDevice#control}. */
        volatile DmaBuf exported;
        volatile BufferOps ops;

        CaptureBuffer(int index, BufferStorage storage) {
            this.index = index;
            this.storage = storage;
        }
    }

    private enum Fill {
        WRITTEN, FAILED, STOPPED
    }

    private final DmaBufRegistry registry;
    private final PhysicalMemory memory;
    private final DeviceLog log;
    private final ReentrantLock control = new ReentrantLock();
    private final ReentrantLock state = new ReentrantLock();
    private final Condition doneChanged = state.newCondition();

    private volatile DeviceSettings settings;
    /** Guarded by {@link #control}. Null only after a failed reconfiguration could not restore the old pool. */
    private PagePool pool;
    /** Guarded by {@link #control}. */
    private ScheduledFuture<?> ticker;

    // Guarded by state.
    private Format format;
    private CaptureBuffer[] buffers = new CaptureBuffer[0];
    private final ArrayDeque<CaptureBuffer> incoming = new ArrayDeque<>();
    private final ArrayDeque<CaptureBuffer> done = new ArrayDeque<>();
    private ScheduledExecutorService generator;
    private long sequence;
    private boolean closed;
    // Written under state, read by the generator without it.
    private volatile boolean streaming;
    private volatile int generation;
    private volatile Thread generatorThread;

    /** The ops of every exported buffer whose release has not run yet: the device's and orphans. */
    private final Set<BufferOps> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong releases = new AtomicLong();
    private final AtomicLong framesDone = new AtomicLong();
    private final AtomicLong framesDropped = new AtomicLong();

    /**
     * Creates the device and its contiguous pool (reserved and pre-faulted now).
     *
     * @throws DmaBufException from {@link PhysicalMemory#createPool}: {@link Errno#EINVAL} for a pool name in use
     *         (another device of the same name), {@link Errno#ENOMEM} when the memory service cannot give it
     */
    VideoDevice(DeviceSettings settings, DmaBufRegistry registry, PhysicalMemory memory, DeviceLog log) {
        this.settings = settings;
        this.registry = registry;
        this.memory = memory;
        this.log = log;
        this.format = settings.defaultFormat();
        this.pool = memory.createPool(PoolSpec.contiguous(settings.poolName(), settings.memoryBytes()));
        log.info(describe() + " started: " + settings.defaultFormat() + ", "
                + (settings.fps() == 0 ? "frame rate 0 (fill on queue)" : settings.fps() + " fps") + ", pool '"
                + pool.name() + "' of " + (pool.capacity() >> 10) + " KiB, contiguous");
    }

    // ---- CaptureDevice ------------------------------------------------------------------------------------------

    @Override
    public String name() {
        return settings.name();
    }

    @Override
    public int fps() {
        return settings.fps();
    }

    @Override
    public Format format() {
        state.lock();
        try {
            checkOpen();
            return format;
        } finally {
            state.unlock();
        }
    }

    @Override
    public Format tryFormat(PixelFormat pixelFormat, int width, int height) {
        checkOpenUnlocked();
        return Format.of(pixelFormat, width, height);
    }

    @Override
    public Format setFormat(PixelFormat pixelFormat, int width, int height) {
        control.lock();
        try {
            checkOpenUnlocked();
            Format f = Format.of(pixelFormat, width, height);
            state.lock();
            try {
                checkOpen();
                if (buffers.length > 0) {
                    throw new DmaBufException(Errno.EBUSY, describe() + ": S_FMT " + f + " while " + buffers.length
                            + " buffer(s) of " + format + " are allocated; free them with REQBUFS(0) first");
                }
                format = f;
                return f;
            } finally {
                state.unlock();
            }
        } finally {
            control.unlock();
        }
    }

    @Override
    public int requestBuffers(int count) {
        control.lock();
        try {
            checkOpenUnlocked();
            if (count < 0) {
                throw new DmaBufException(Errno.EINVAL, describe() + ": REQBUFS count " + count + " is negative");
            }
            Format f;
            state.lock();
            try {
                checkOpen();
                if (streaming) {
                    throw new DmaBufException(Errno.EBUSY, describe() + ": REQBUFS(" + count + ") while streaming; "
                            + "STREAMOFF first");
                }
                f = format;
            } finally {
                state.unlock();
            }
            freeBuffers();
            if (count == 0) {
                return 0;
            }
            int wanted = Math.min(count, MAX_BUFFERS);
            if (pool == null) {
                throw new DmaBufException(Errno.ENOMEM, describe() + ": REQBUFS(" + count + "): the device has no "
                        + "memory pool (a reconfiguration failed to create one; see the log)");
            }
            List<PageAllocation> got = new ArrayList<>(wanted);
            DmaBufException shortage = null;
            try {
                for (int i = 0; i < wanted; i++) {
                    try {
                        got.add(pool.allocate(f.sizeImage()));
                    } catch (DmaBufException e) {
                        if (e.errno() != Errno.ENOMEM) {
                            throw e;
                        }
                        shortage = e;
                        break;
                    }
                }
            } catch (RuntimeException e) {
                got.forEach(PageAllocation::close);
                throw e;
            }
            if (got.isEmpty()) {
                throw new DmaBufException(Errno.ENOMEM, describe() + ": REQBUFS(" + count + "): not one buffer of "
                        + f.sizeImage() + " bytes (" + f + ") fits: the pool has " + pool.available() + " of "
                        + pool.capacity() + " bytes free (raise memory.mb, or wait for importers to put orphaned "
                        + "buffers)", shortage);
            }
            if (shortage != null) {
                log.info(describe() + ": REQBUFS(" + count + ") allocated " + got.size()
                        + " buffer(s); the pool had no room for more: " + shortage.getMessage());
            }
            CaptureBuffer[] fresh = new CaptureBuffer[got.size()];
            for (int i = 0; i < fresh.length; i++) {
                fresh[i] = new CaptureBuffer(i, new BufferStorage(name(), i, got.get(i)));
            }
            state.lock();
            try {
                buffers = fresh;
            } finally {
                state.unlock();
            }
            return fresh.length;
        } finally {
            control.unlock();
        }
    }

    @Override
    public BufferInfo queryBuffer(int index) {
        state.lock();
        try {
            checkOpen();
            CaptureBuffer b = buffer(index, "QUERYBUF");
            return new BufferInfo(index, b.storage.size(), b.state, b.exported != null);
        } finally {
            state.unlock();
        }
    }

    @Override
    public void queue(int index) {
        state.lock();
        try {
            checkOpen();
            CaptureBuffer b = buffer(index, "QBUF");
            if (b.state != BufferState.DEQUEUED) {
                throw new DmaBufException(Errno.EINVAL, describe() + ": QBUF " + index + ": the buffer is "
                        + b.state + ", not DEQUEUED (queue it again after DQBUF or STREAMOFF)");
            }
            b.state = BufferState.QUEUED;
            incoming.add(b);
            if (streaming && settings.fps() == 0) {
                int gen = generation;
                submit(() -> drain(gen));
            }
        } finally {
            state.unlock();
        }
    }

    @Override
    public Frame dequeue(long timeout, TimeUnit unit) {
        if (timeout < 0 || unit == null) {
            throw new DmaBufException(Errno.EINVAL, describe() + ": DQBUF needs a timeout of 0 or more and a unit, "
                    + "not " + timeout + " " + unit);
        }
        long left = unit.toNanos(timeout);
        state.lock();
        try {
            checkOpen();
            if (!streaming) {
                throw new DmaBufException(Errno.EINVAL, describe() + ": DQBUF while not streaming: STREAMON first");
            }
            while (done.isEmpty()) {
                if (left <= 0) {
                    throw new DmaBufException(Errno.EAGAIN, describe() + ": DQBUF: no frame done within "
                            + unit.toMillis(timeout) + " ms (" + incoming.size() + " buffer(s) queued)");
                }
                try {
                    left = doneChanged.awaitNanos(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new DmaBufException(Errno.EINTR, describe() + ": DQBUF interrupted");
                }
                checkOpen();
                if (!streaming) {
                    throw new DmaBufException(Errno.EINVAL, describe() + ": DQBUF: streaming was turned off while "
                            + "waiting");
                }
            }
            CaptureBuffer b = done.poll();
            b.state = BufferState.DEQUEUED;
            return b.frame;
        } finally {
            state.unlock();
        }
    }

    @Override
    public void streamOn() {
        control.lock();
        try {
            checkOpenUnlocked();
            state.lock();
            try {
                checkOpen();
                if (buffers.length == 0) {
                    throw new DmaBufException(Errno.EINVAL, describe() + ": STREAMON with no buffers: REQBUFS first");
                }
                if (streaming) {
                    return;
                }
                String threadName = "v4l2-" + name() + "-generator";
                generator = Executors.newSingleThreadScheduledExecutor(task -> {
                    Thread t = new Thread(task, threadName);
                    t.setDaemon(true);
                    generatorThread = t;
                    return t;
                });
                sequence = 0;
                generation++;
                streaming = true;
                pace(settings.fps());
            } finally {
                state.unlock();
            }
            log.info(describe() + ": streaming " + format + " at "
                    + (settings.fps() == 0 ? "the rate buffers are queued" : settings.fps() + " fps"));
        } finally {
            control.unlock();
        }
    }

    @Override
    public void streamOff() {
        control.lock();
        try {
            checkOpenUnlocked();
            stopStreaming();
        } finally {
            control.unlock();
        }
    }

    @Override
    public boolean isStreaming() {
        return streaming;
    }

    @Override
    public DmaBuf exportBuffer(int index, int flags) {
        if ((flags & ~EXPBUF_FLAGS) != 0) {
            throw new DmaBufException(Errno.EINVAL, String.format("%s: EXPBUF flags 0x%x: only O_CLOEXEC and the "
                    + "access-mode bits (0x%x) are allowed", describe(), flags, EXPBUF_FLAGS));
        }
        control.lock();
        try {
            checkOpenUnlocked();
            CaptureBuffer b;
            state.lock();
            try {
                checkOpen();
                b = buffer(index, "EXPBUF");
            } finally {
                state.unlock();
            }
            DmaBuf cached = b.exported;
            if (cached != null) {
                return cached;
            }
            BufferOps ops = new BufferOps(name(), b.storage, log, this::released);
            live.add(ops);
            DmaBuf exported;
            try {
                exported = registry.export(ExportInfo.builder(ops, b.storage.size())
                        .exporter(name())
                        .name(bufferName(index))
                        .build());
            } catch (RuntimeException e) {
                live.remove(ops); // nothing was exported: release will never run, the device still owns the pages
                throw e;
            }
            ops.exportedAs(exported);
            b.ops = ops;
            b.exported = exported;
            return exported;
        } finally {
            control.unlock();
        }
    }

    // ---- lifecycle ------------------------------------------------------------------------------------------------

    /**
     * Applies a new configuration without revoking anything: the frame rate at once (also while streaming); the
     * default format, the name and the pool size only while no buffer is allocated and no orphan is alive (a pool's
     * size is fixed, and buffers are exported under the name), else the change is logged and the old value kept.
     *
     * @param next    the new settings
     * @param publish told the settings now in force, with the control lock held (so no export can use a name the
     *                exporter service does not carry yet)
     * @return the settings now in force
     */
    DeviceSettings apply(DeviceSettings next, Consumer<DeviceSettings> publish) {
        control.lock();
        try {
            checkOpenUnlocked();
            DeviceSettings applied = settings;
            if (next.fps() != applied.fps()) {
                applied = applied.withFps(next.fps());
                settings = applied;
                state.lock();
                try {
                    if (streaming) {
                        pace(next.fps());
                    }
                } finally {
                    state.unlock();
                }
                log.info(describe() + ": frame rate now " + next.fps());
            }
            boolean idle;
            state.lock();
            try {
                idle = buffers.length == 0 && live.isEmpty();
                if (!next.defaultFormat().equals(applied.defaultFormat())) {
                    if (buffers.length == 0) {
                        applied = applied.withDefaultFormat(next.defaultFormat());
                        format = next.defaultFormat();
                        log.info(describe() + ": format now " + format);
                    } else {
                        log.warn(describe() + ": the new default format " + next.defaultFormat() + " is not applied: "
                                + buffers.length + " buffer(s) of " + format + " are allocated (REQBUFS(0) and S_FMT "
                                + "to change it); keeping " + applied.defaultFormat());
                    }
                }
            } finally {
                state.unlock();
            }
            if (!next.name().equals(applied.name()) || next.memoryBytes() != applied.memoryBytes()) {
                List<String> parts = new ArrayList<>();
                if (!next.name().equals(applied.name())) {
                    parts.add("name '" + applied.name() + "' -> '" + next.name() + "'");
                }
                if (next.memoryBytes() != applied.memoryBytes()) {
                    parts.add("memory " + (applied.memoryBytes() >> 10) + " -> " + (next.memoryBytes() >> 10) + " KiB");
                }
                String change = String.join(", ", parts);
                if (!idle) {
                    log.warn(describe() + ": " + change + " is not applied while buffers are allocated or exported "
                            + "(the pool's size is fixed and buffers are exported under the name); free them with "
                            + "REQBUFS(0), have importers put them, and configure again");
                } else if (replacePool(applied, next)) {
                    applied = applied.withPool(next.name(), next.memoryBytes());
                    log.info(describe() + ": " + change + " applied");
                }
            }
            settings = applied;
            publish.accept(applied);
            return applied;
        } finally {
            control.unlock();
        }
    }

    /** The pool for {@code next}, replacing the idle current one; false (old pool kept if possible) on failure. */
    private boolean replacePool(DeviceSettings current, DeviceSettings next) {
        PoolSpec spec = PoolSpec.contiguous(next.poolName(), next.memoryBytes());
        PagePool old = pool;
        if (old != null && !old.name().equals(next.poolName())) {
            try {
                pool = memory.createPool(spec); // a new name: make the new pool before giving up the old one
            } catch (DmaBufException e) {
                log.error(describe() + ": could not create pool '" + next.poolName() + "' (" + e.getMessage()
                        + "); keeping '" + old.name() + "' and the old name and size", e);
                return false;
            }
            old.close();
            return true;
        }
        if (old != null) {
            old.close();
        }
        try {
            pool = memory.createPool(spec);
            return true;
        } catch (DmaBufException e) {
            log.error(describe() + ": could not create pool '" + next.poolName() + "' of " + (next.memoryBytes() >> 10)
                    + " KiB: " + e.getMessage() + "; restoring the old one", e);
            try {
                pool = memory.createPool(PoolSpec.contiguous(current.poolName(), current.memoryBytes()));
            } catch (DmaBufException again) {
                pool = null;
                log.error(describe() + ": could not restore pool '" + current.poolName() + "' either ("
                        + again.getMessage() + "): REQBUFS fails with ENOMEM until memory.mb is configured again",
                        again);
            }
            return false;
        }
    }

    /**
     * The device goes away: stops the generator, revokes every exported buffer still alive (importers are told,
     * their views become invalid, release frees the pages), gives back the device's references, frees the buffers
     * never exported, and closes the pool once nothing uses it. Later calls fail with {@link Errno#ENODEV}.
     * Idempotent.
     */
    void close() {
        control.lock();
        try {
            state.lock();
            try {
                if (closed) {
                    return;
                }
                closed = true;
                doneChanged.signalAll();
            } finally {
                state.unlock();
            }
            stopStreaming();
            for (BufferOps ops : List.copyOf(live)) {
                DmaBuf exported = ops.buffer();
                if (exported != null && !ops.isReleased()) {
                    try {
                        registry.revoke(exported);
                    } catch (DmaBufException e) {
                        log.warn(describe() + ": could not revoke " + exported + ": " + e.getMessage());
                    }
                }
            }
            freeBuffers();
            if (pool != null) {
                if (live.isEmpty()) {
                    pool.close();
                } else {
                    log.error(describe() + ": " + live.size() + " exported buffer(s) were not released; their pool '"
                            + pool.name() + "' stays open rather than free memory under them", null);
                }
            }
            log.info(describe() + " stopped");
        } finally {
            control.unlock();
        }
    }

    // ---- internals ------------------------------------------------------------------------------------------------

    /**
     * Frees the queue's buffers ({@link #control} held, not streaming): an exported one by putting the device's
     * reference (release frees its pages now, or when the last importer puts it: an orphan), the others at once.
     */
    private void freeBuffers() {
        CaptureBuffer[] old;
        state.lock();
        try {
            old = buffers;
            buffers = new CaptureBuffer[0];
            incoming.clear();
            done.clear();
        } finally {
            state.unlock();
        }
        int orphans = 0;
        for (CaptureBuffer b : old) {
            DmaBuf exported = b.exported;
            if (exported != null) {
                b.exported = null;
                try {
                    registry.put(exported);
                } catch (DmaBufException e) {
                    log.warn(describe() + ": could not put the device's reference to " + exported + ": "
                            + e.getMessage());
                }
                if (!b.ops.isReleased()) {
                    orphans++;
                }
            } else {
                b.storage.free(log);
            }
        }
        if (orphans > 0) {
            log.info(describe() + ": " + orphans + " exported buffer(s) are still held by importers; their memory "
                    + "returns to the pool when the last of them puts it");
        }
    }

    /** Stops the generator and gives every buffer back ({@link #control} held). */
    private void stopStreaming() {
        ScheduledExecutorService exec;
        state.lock();
        try {
            if (!streaming && generator == null) {
                return;
            }
            streaming = false;
            generation++;
            exec = generator;
            generator = null;
            ticker = null;
            doneChanged.signalAll();
        } finally {
            state.unlock();
        }
        boolean interrupted = false;
        if (exec != null) {
            exec.shutdownNow(); // interrupts a wait for a CPU-access bracket to end
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_WAIT_MS);
            try {
                boolean stopped = exec.awaitTermination(STOP_WAIT_MS, TimeUnit.MILLISECONDS);
                Thread t = generatorThread;
                if (stopped && t != null) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
                }
                if (!stopped || (t != null && t.isAlive())) {
                    log.error(describe() + ": the frame generator did not stop within " + STOP_WAIT_MS + " ms", null);
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        state.lock();
        try {
            for (CaptureBuffer b : buffers) {
                b.state = BufferState.DEQUEUED;
            }
            incoming.clear();
            done.clear();
            doneChanged.signalAll();
        } finally {
            state.unlock();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        log.info(describe() + ": streaming stopped");
    }

    /** Starts pacing the generator for {@code fps} ({@link #state} and {@link #control} held, streaming). */
    private void pace(int fps) {
        if (ticker != null) {
            ticker.cancel(false);
            ticker = null;
        }
        int gen = generation;
        if (fps == 0) {
            submit(() -> drain(gen));
        } else {
            long period = TimeUnit.SECONDS.toNanos(1) / fps;
            try {
                ticker = generator.scheduleAtFixedRate(() -> tick(gen), 0, period, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopping) {
                // STREAMOFF is under way
            }
        }
    }

    private void submit(Runnable task) {
        try {
            generator.execute(task);
        } catch (RejectedExecutionException stopping) {
            // STREAMOFF is under way
        }
    }

    /** Frame rate 0: fills every queued buffer. On the generator thread. */
    private void drain(int gen) {
        try {
            while (fillNext(gen, false)) {
                // next
            }
        } catch (RuntimeException e) {
            log.error(describe() + ": the frame generator failed; queued buffers wait for the next QBUF", e);
        }
    }

    /** One frame period: fills the oldest queued buffer, or drops the frame. On the generator thread. */
    private void tick(int gen) {
        try {
            fillNext(gen, true);
        } catch (RuntimeException e) {
            // Never let it escape: an exception would cancel the fixed-rate ticks for good.
            log.error(describe() + ": the frame generator failed on a tick", e);
        }
    }

    /**
     * Fills the oldest queued buffer with the next frame and moves it to the done queue.
     *
     * @return true when a buffer was taken
     */
    private boolean fillNext(int gen, boolean dropWhenNoBuffer) {
        CaptureBuffer b;
        long seq;
        Format f;
        state.lock();
        try {
            if (!streaming || gen != generation) {
                return false;
            }
            b = incoming.poll();
            if (b == null) {
                if (dropWhenNoBuffer) {
                    sequence++;
                    framesDropped.incrementAndGet();
                }
                return false;
            }
            b.state = BufferState.ACTIVE;
            seq = sequence++;
            f = format;
        } finally {
            state.unlock();
        }
        Fill result = write(b, f, seq, gen);
        if (result == Fill.STOPPED) {
            return false;
        }
        state.lock();
        try {
            if (!streaming || gen != generation || b.state != BufferState.ACTIVE) {
                return false;
            }
            boolean ok = result == Fill.WRITTEN;
            b.frame = new Frame(b.index, seq, System.nanoTime(), ok ? f.sizeImage() : 0, !ok);
            b.state = BufferState.DONE;
            done.add(b);
            framesDone.incrementAndGet();
            doneChanged.signalAll();
            return true;
        } finally {
            state.unlock();
        }
    }

    /** The DMA: the pattern straight into the allocation's memory, between the storage's DMA fence. */
    private Fill write(CaptureBuffer b, Format f, long seq, int gen) {
        MemorySegment view;
        try {
            view = b.storage.beginDma(() -> streaming && generation == gen);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Fill.STOPPED;
        } catch (RuntimeException e) {
            log.warn(describe() + ": frame " + seq + " into " + b.storage + " failed: " + e.getMessage());
            return Fill.FAILED;
        }
        if (view == null) {
            if (b.storage.isFreed()) {
                log.warn(describe() + ": frame " + seq + ": " + b.storage + " was freed (revoked?); frame marked "
                        + "as an error");
                return Fill.FAILED;
            }
            return Fill.STOPPED;
        }
        try {
            TestPattern.fill(view, f, seq);
            return Fill.WRITTEN;
        } catch (RuntimeException e) {
            log.warn(describe() + ": frame " + seq + " into " + b.storage + " failed: " + e.getMessage());
            return Fill.FAILED;
        } finally {
            b.storage.endDma();
        }
    }

    /** Release of an exported buffer ran (its pages are back in the pool). Any thread. */
    private void released(BufferOps ops) {
        live.remove(ops);
        releases.incrementAndGet();
    }

    /** The buffer at {@code index} ({@link #state} held), or EINVAL. */
    private CaptureBuffer buffer(int index, String call) {
        if (index < 0 || index >= buffers.length) {
            throw new DmaBufException(Errno.EINVAL, describe() + ": " + call + " index " + index + " is not a "
                    + "buffer (" + buffers.length + " allocated)");
        }
        return buffers[index];
    }

    private void checkOpen() {
        if (closed) {
            throw new DmaBufException(Errno.ENODEV, describe() + " is gone (its configuration was deleted or its "
                    + "bundle stopped)");
        }
    }

    private void checkOpenUnlocked() {
        state.lock();
        try {
            checkOpen();
        } finally {
            state.unlock();
        }
    }

    private String bufferName(int index) {
        String n = name() + "-buf" + index;
        return n.getBytes(StandardCharsets.UTF_8).length < DmaBufUapi.DMA_BUF_NAME_LEN ? n : null;
    }

    private String describe() {
        return "capture device '" + settings.name() + "'";
    }

    // ---- for the component and tests ------------------------------------------------------------------------------

    DeviceSettings settings() {
        return settings;
    }

    /** The pool, or null. */
    PagePool pool() {
        control.lock();
        try {
            return pool;
        } finally {
            control.unlock();
        }
    }

    /** The storage of buffer {@code index}. */
    BufferStorage storage(int index) {
        state.lock();
        try {
            return buffer(index, "storage").storage;
        } finally {
            state.unlock();
        }
    }

    /** The ops of buffer {@code index} once exported, else null. */
    BufferOps ops(int index) {
        state.lock();
        try {
            return buffer(index, "ops").ops;
        } finally {
            state.unlock();
        }
    }

    /** Exported buffers whose release has not run (the device's and orphans). */
    int liveExports() {
        return live.size();
    }

    /** Releases run so far. */
    long releases() {
        return releases.get();
    }

    /** Frames moved to the done queue. */
    long framesDone() {
        return framesDone.get();
    }

    /** Frames dropped for want of a queued buffer. */
    long framesDropped() {
        return framesDropped.get();
    }

    /** The generator's thread of the last stream, or null. */
    Thread generatorThread() {
        return generatorThread;
    }
}
