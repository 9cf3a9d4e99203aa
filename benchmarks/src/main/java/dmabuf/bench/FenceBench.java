package dmabuf.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.Control;

/**
 * Wake-up across threads: a round trip between two threads, each waking the other once. The anchor hands the turn
 * over with {@code LockSupport.park/unpark}, the floor of any blocking hand-off in Java.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FenceBench {
    /** How long a waiter parks before looking at the turn and at the end of the iteration again. */
    static final long RECHECK_NANOS = 1_000_000;

    /** The turn: 1 when the ponger should answer, 0 when the pinger may go on. */
    @State(Scope.Group)
    public static class Turn {
        volatile int turn;
        volatile Thread pinger;
        volatile Thread ponger;
    }

    /** Anchor, first thread: hands the turn over and waits for it to come back. */
    @Benchmark
    @Group("park")
    @GroupThreads(1)
    public int parkPing(Turn t, Control control) {
        t.pinger = Thread.currentThread();
        t.turn = 1;
        LockSupport.unpark(t.ponger);
        while (t.turn != 0) {
            if (control.stopMeasurement) {
                return -1;
            }
            LockSupport.parkNanos(RECHECK_NANOS);
        }
        return 0;
    }

    /** Anchor, second thread: waits for the turn and hands it back. */
    @Benchmark
    @Group("park")
    @GroupThreads(1)
    public int parkPong(Turn t, Control control) {
        t.ponger = Thread.currentThread();
        while (t.turn != 1) {
            if (control.stopMeasurement) {
                return -1;
            }
            LockSupport.parkNanos(RECHECK_NANOS);
        }
        t.turn = 0;
        LockSupport.unpark(t.pinger);
        return 0;
    }
}
