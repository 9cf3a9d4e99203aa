package dmabuf.heap;

import static dmabuf.heap.HeapFixture.CALLER;
import static dmabuf.heap.HeapFixture.OTHER;
import static dmabuf.heap.HeapFixture.PAGE;
import static dmabuf.heap.HeapFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.RepeatedTest;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;

/**
 * Stopping a heap while bundles allocate from it: every allocation either completes before the stop (and its buffer
 * is revoked) or is refused with ENOENT; a buffer whose last fd is closed during the stop is released, not revoked,
 * and the stop waits for that release; none leaks pages into the closed pool or fails any other way. Repeated, since
 * each run interleaves differently.
 */
class HeapStopRaceTest {
    private static final int KEEP_OPEN = 8;
    private static final long DEADLINE_MS = 10_000;

    private final HeapFixture f = new HeapFixture();

    @AfterEach
    void close() {
        f.close();
    }

    @RepeatedTest(25)
    void stopDuringAllocationsRevokesOrRefusesEachAndClosesThePoolWhole() throws Exception {
        SystemHeap heap = f.system(Map.of("size.mb", 16L));
        List<Throwable> unexpected = new CopyOnWriteArrayList<>();
        CountDownLatch warmedUp = new CountDownLatch(2 * 20);
        List<Thread> threads = new ArrayList<>();
        List<List<Integer>> openFds = new ArrayList<>();
        for (DmaBufRegistry registry : List.of(f.caller, f.other)) {
            List<Integer> open = new CopyOnWriteArrayList<>();
            openFds.add(open);
            Thread t = new Thread(() -> allocateUntilRemoved(registry, open, warmedUp, unexpected));
            threads.add(t);
            t.start();
        }
        assertTrue(warmedUp.await(DEADLINE_MS, TimeUnit.MILLISECONDS), "both threads allocated");

        heap.deactivate();

        for (Thread t : threads) {
            t.join(DEADLINE_MS);
            assertTrue(!t.isAlive(), t + " ended with ENOENT");
        }
        assertEquals(List.of(), unexpected, "only ENOENT, after the stop");
        assertTrue(heap.liveBuffers().isEmpty(), "every buffer was revoked");
        assertNull(f.pool("dma_heap/system"));
        assertEquals(List.of(), f.memoryLog.warnings, "no allocation was left in the pool when it closed");
        assertEquals(0, f.liveBytes(CALLER));
        assertEquals(0, f.liveBytes(OTHER));
        int i = 0;
        for (DmaBufRegistry registry : List.of(f.caller, f.other)) {
            for (int fd : openFds.get(i++)) {
                assertErrno(Errno.ENODEV, () -> registry.mmap(fd, 0, PAGE, DmaBufUapi.PROT_READ));
                registry.close(fd);
            }
        }
        assertEquals(0, f.core.buffers().all().size(), "every buffer went with its last fd");
    }

    private static void allocateUntilRemoved(DmaBufRegistry registry, List<Integer> open, CountDownLatch warmedUp,
            List<Throwable> unexpected) {
        ArrayDeque<Integer> fifo = new ArrayDeque<>();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
        long n = 0;
        try {
            while (System.nanoTime() < end) {
                int fd;
                try {
                    fd = registry.heapAllocate("system", PAGE * (1 + n++ % 7), DmaBufUapi.O_RDWR, 0);
                } catch (DmaBufException e) {
                    if (e.errno() != Errno.ENOENT) {
                        unexpected.add(e);
                    }
                    return;
                }
                fifo.add(fd);
                open.add(fd);
                if (fifo.size() > KEEP_OPEN) {
                    int oldest = fifo.remove();
                    open.remove((Integer) oldest);
                    registry.close(oldest);
                }
                warmedUp.countDown();
            }
            unexpected.add(new AssertionError("the heap was not removed within " + DEADLINE_MS + " ms"));
        } catch (RuntimeException | Error e) {
            unexpected.add(e);
        }
    }
}
