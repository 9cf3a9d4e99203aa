package dmabuf.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;

/**
 * The machine's own floors, measured in the same run as the scenarios: one atomic read-modify-write pair, one lock
 * pair, one hash lookup (1 and 2 threads on the same object), the cheapest syscalls through FFM, and a shared arena.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PrimitiveAnchors {
    /** One object both threads hammer. */
    @State(Scope.Benchmark)
    public static class Shared {
        final AtomicInteger count = new AtomicInteger(1);
        final ReentrantLock lock = new ReentrantLock();
        final ConcurrentHashMap<Integer, Object> map = new ConcurrentHashMap<>();
        int counter;

        @Setup(Level.Trial)
        public void setUp() {
            for (int i = 0; i < 1024; i++) {
                map.put(i, new Object());
            }
        }
    }

    /** A key per thread, in the map's range. */
    @State(Scope.Thread)
    public static class Key {
        Integer key = 3;
    }

    /** Anchor: AtomicInteger increment + decrement, 1 thread. */
    @Benchmark
    public int atomicIncDec(Shared s) {
        s.count.incrementAndGet();
        return s.count.decrementAndGet();
    }

    /** Anchor: the same on one object from 2 threads. */
    @Benchmark
    @Threads(2)
    public int atomicIncDec2t(Shared s) {
        s.count.incrementAndGet();
        return s.count.decrementAndGet();
    }

    /** Anchor: ReentrantLock lock + unlock around a counter, 1 thread. */
    @Benchmark
    public int lockUnlock(Shared s) {
        s.lock.lock();
        try {
            return ++s.counter;
        } finally {
            s.lock.unlock();
        }
    }

    /** Anchor: the same on one lock from 2 threads. */
    @Benchmark
    @Threads(2)
    public int lockUnlock2t(Shared s) {
        s.lock.lock();
        try {
            return ++s.counter;
        } finally {
            s.lock.unlock();
        }
    }

    /** Anchor: ConcurrentHashMap&lt;Integer, Object&gt;.get, 1 thread. */
    @Benchmark
    public Object chmGet(Shared s, Key k) {
        return s.map.get(k.key);
    }

    /** Anchor: the same from 2 threads. */
    @Benchmark
    @Threads(2)
    public Object chmGet2t(Shared s, Key k) {
        return s.map.get(k.key);
    }

    /** Anchor: the FFM downcall getppid(), the floor of any ioctl from Java. */
    @Benchmark
    public int getppid() {
        return Libc.getppid();
    }

    /** Anchor: FFM dup() + close(), an fd table insert and remove. */
    @Benchmark
    public int dupClose() {
        return Libc.close(Libc.dup(2));
    }

    /** Anchor: memfd_create + ftruncate + mmap + munmap + close of 8 MiB, untouched. */
    @Benchmark
    public long memfdMap8m() {
        return Libc.memfdMapUnmap(8L << 20);
    }

    /** Anchor: Arena.ofShared() + allocate(4 KiB) + close. */
    @Benchmark
    public long sharedArena4k() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = arena.allocate(4096, 4096);
            return s.address();
        }
    }
}
