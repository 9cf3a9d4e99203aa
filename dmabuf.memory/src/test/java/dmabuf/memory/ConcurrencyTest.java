package dmabuf.memory;

import static dmabuf.memory.MemoryFixture.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PoolSpec;

/** Racing allocations, frees and a pool close leave the books and the page map exact. */
class ConcurrencyTest {

    @Test
    void racingAllocateAndCloseKeepQuotaAndPagesExact() throws Exception {
        MemoryConfig c = MemoryConfig.DEFAULTS.withDefaultQuota(48 * PAGE);
        try (MemoryFixture f = new MemoryFixture(c)) {
            PagePool p = f.gpu.createPool(PoolSpec.scattered("race", 64 * PAGE).withMaxChunk(2 * PAGE));
            // Ballast: 40 of the 48 quota pages stay allocated during the race, so the quota boundary is reached
            // however the threads are scheduled (on a loaded machine they may well run one after another).
            PageAllocation ballast = p.allocate(40 * PAGE);
            AtomicInteger refused = new AtomicInteger();
            ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    List<PageAllocation> mine = new ArrayList<>();
                    for (int i = 0; i < 3000; i++) {
                        try {
                            if (mine.size() < 4 && ThreadLocalRandom.current().nextBoolean()) {
                                mine.add(p.allocate((1 + ThreadLocalRandom.current().nextInt(6)) * PAGE));
                                long stillLive = f.engine.stats().live;
                                if (stillLive > 48 * PAGE) {
                                    unexpected.add(new AssertionError("over quota: " + stillLive));
                                }
                            } else if (!mine.isEmpty()) {
                                mine.remove(0).close();
                            }
                        } catch (DmaBufException e) {
                            if (e.errno() == Errno.ENOMEM) {
                                refused.incrementAndGet();
                            } else {
                                unexpected.add(e);
                            }
                        } catch (Throwable e) {
                            unexpected.add(e);
                        }
                    }
                    mine.forEach(PageAllocation::close);
                }));
            }
            for (Thread t : threads) {
                t.join(30_000);
                assertFalse(t.isAlive(), "a thread is stuck");
            }
            ballast.close();
            assertTrue(unexpected.isEmpty(), () -> unexpected.peek().toString());
            assertTrue(refused.get() > 0, "the quota (48 of 64 pages) was reached at times");
            assertEquals(0, f.engine.stats().live);
            assertEquals(0, f.pool("race").allocations);
            assertEquals(64 * PAGE, p.available());
        }
    }

    @Test
    void poolCloseRacingAllocationsUnchargesEachExactlyOnce() throws Exception {
        for (int round = 0; round < 40; round++) {
            try (MemoryFixture f = new MemoryFixture()) {
                PagePool p = f.gpu.createPool(PoolSpec.scattered("r" + round, 256 * PAGE).withMaxChunk(PAGE));
                CountDownLatch go = new CountDownLatch(1);
                CountDownLatch started = new CountDownLatch(3); // allocations under way before the pool closes
                ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 3; t++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        try {
                            go.await();
                            for (int i = 0; i < 500; i++) {
                                PageAllocation a = p.allocate(2 * PAGE);
                                started.countDown();
                                if (i % 2 == 0) {
                                    a.close();
                                }
                            }
                        } catch (DmaBufException e) {
                            if (e.errno() != Errno.ENODEV && e.errno() != Errno.ENOMEM
                                    && e.errno() != Errno.EFAULT) {
                                unexpected.add(e);
                            }
                        } catch (Throwable e) {
                            unexpected.add(e);
                        }
                    }));
                }
                go.countDown();
                started.await(30, TimeUnit.SECONDS);
                p.close();
                for (Thread t : threads) {
                    t.join(30_000);
                    assertFalse(t.isAlive(), "a thread is stuck after the pool closed");
                }
                assertTrue(unexpected.isEmpty(), () -> unexpected.peek().toString());
                assertEquals(0, f.engine.stats().live, "round " + round);
                assertEquals(0, f.engine.stats().reserved);
                assertEquals(0, f.bundle(10).live);
            }
        }
    }
}
