package dmabuf.core.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResv;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.api.sync.FenceContext;
import dmabuf.core.CoreFixture;
import dmabuf.core.TestExporter;

/**
 * Many threads lock random sets of buffers in random order through acquire contexts for many rounds: no deadlock
 * (every thread finishes, every lock wait stays bounded), mutual exclusion holds, and no wake-up is lost (each round
 * waits for the fences the previous holders of its buffers signalled after unlocking). Bounded in time; the figures
 * go to {@code target/sync-stress-report.txt}.
 */
class AcquireStressTest {
    private static final int THREADS = 8;
    private static final int BUFFERS = 12;
    private static final int MAX_ROUNDS_PER_THREAD = 3000;
    private static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(4);

    @Test
    void randomLockSetsNeverDeadlockNorLoseAWakeUp() throws Exception {
        CoreFixture fx = new CoreFixture();
        List<DmaResv> resvs = new ArrayList<>();
        for (int i = 0; i < BUFFERS; i++) {
            DmaBuf b = fx.export(new TestExporter(4096), 4096);
            resvs.add(b.resv());
        }
        AtomicLongArray owner = new AtomicLongArray(BUFFERS);
        AtomicLong rounds = new AtomicLong();
        AtomicLong backoffs = new AtomicLong();
        AtomicLong maxLockNanos = new AtomicLong();
        AtomicLong maxFenceWaitNanos = new AtomicLong();
        AtomicLong fenceWaits = new AtomicLong();
        AtomicInteger finished = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<FenceContext> timelines = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            timelines.add(fx.exp.fenceContext("stress", "thread" + t));
        }
        // the "device": signals the jobs' fences on its own thread, in submission order, as a GPU ring would
        LinkedBlockingQueue<DmaFence> ring = new LinkedBlockingQueue<>();
        AtomicBoolean stopDevice = new AtomicBoolean();
        Thread device = Thread.ofPlatform().name("stress-device").start(() -> {
            try {
                while (!stopDevice.get() || !ring.isEmpty()) {
                    DmaFence f = ring.poll(50, TimeUnit.MILLISECONDS);
                    if (f != null) {
                        f.signal();
                    }
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        });
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(THREADS);
        long deadline = System.nanoTime() + BUDGET_NANOS;
        for (int t = 0; t < THREADS; t++) {
            long me = t + 1;
            FenceContext timeline = timelines.get(t);
            Thread.ofPlatform().name("stress-" + t).start(() -> {
                try {
                    start.await(5, TimeUnit.SECONDS);
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int r = 0; r < MAX_ROUNDS_PER_THREAD && System.nanoTime() < deadline; r++) {
                        List<Integer> set = new ArrayList<>();
                        for (int i = 0; i < BUFFERS; i++) {
                            set.add(i);
                        }
                        Collections.shuffle(set, rnd);
                        set = set.subList(0, 2 + rnd.nextInt(4));
                        List<DmaResv> mine = set.stream().map(resvs::get).toList();
                        DmaFence fence = timeline.createFence();
                        try (AcquireContext ctx = fx.exp.acquireContext()) {
                            long t0 = System.nanoTime();
                            ctx.lockAll(mine);
                            maxLockNanos.accumulateAndGet(System.nanoTime() - t0, Math::max);
                            for (int i : set) {
                                if (!owner.compareAndSet(i, 0, me)) {
                                    throw new AssertionError("buffer " + i + " locked by " + owner.get(i)
                                            + " and thread " + me + " at once");
                                }
                            }
                            for (DmaResv resv : mine) {
                                long w0 = System.nanoTime();
                                if (!resv.testSignaled(DmaResvUsage.READ)) {
                                    fenceWaits.incrementAndGet();
                                }
                                if (!resv.await(DmaResvUsage.READ, 5, TimeUnit.SECONDS)) {
                                    throw new AssertionError("lost wake-up: a previous holder's fence never woke "
                                            + "thread " + me + ": " + resv.fences(DmaResvUsage.READ));
                                }
                                maxFenceWaitNanos.accumulateAndGet(System.nanoTime() - w0, Math::max);
                                resv.reserveFences(1);
                                resv.addFence(fence, DmaResvUsage.WRITE);
                            }
                            busyWork(rnd.nextInt(2000));
                            for (int i : set) {
                                owner.set(i, 0);
                            }
                            backoffs.addAndGet(ctx.backoffs());
                        }
                        ring.add(fence); // signalled later by the device: the next holder may have to wait
                        rounds.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    finished.incrementAndGet();
                    done.countDown();
                }
            });
        }
        start.countDown();
        boolean allDone = done.await(60, TimeUnit.SECONDS);
        stopDevice.set(true);
        device.join(TimeUnit.SECONDS.toMillis(10));
        String report = String.format("acquire-context stress: %d threads, %d buffers, 2-5 buffers per job, random "
                + "order%nrounds: %d%nback-offs: %d (%.3f per round)%nfence waits that blocked: %d%n"
                + "max lockAll wait: %.3f ms%nmax fence wait: %.3f ms%nthreads finished: %d/%d%nfailures: %s%n",
                THREADS, BUFFERS, rounds.get(), backoffs.get(), backoffs.get() / (double) Math.max(1, rounds.get()),
                fenceWaits.get(), maxLockNanos.get() / 1e6, maxFenceWaitNanos.get() / 1e6, finished.get(), THREADS,
                failures);
        write(report);
        assertTrue(allDone, "deadlock: threads did not finish\n" + report);
        assertTrue(failures.isEmpty(), report);
        assertTrue(rounds.get() >= THREADS, report);
        for (DmaResv resv : resvs) {
            assertTrue(resv.testSignaled(DmaResvUsage.BOOKKEEP), report);
            assertTrue(!resv.isLocked(), report);
        }
        for (FenceContext timeline : timelines) {
            assertEquals(0, timeline.unsignaledCount());
        }
    }

    /** Work done while holding the locks, so jobs overlap and contend (no sleeping). */
    private static long busyWork(int iterations) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        for (int i = 0; i < iterations; i++) {
            crc.update(i);
        }
        return crc.getValue();
    }

    private static void write(String report) throws IOException {
        Path target = Path.of("target");
        Files.createDirectories(target);
        Files.writeString(target.resolve("sync-stress-report.txt"), report);
    }
}
