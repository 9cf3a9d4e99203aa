package dmabuf.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Control;

import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.FenceContext;

/**
 * Wake-up across threads: a round trip between two threads, each waking the other once. The scenario signals dma-fences
 * the other thread awaits (the GPU bundle's fence a pinger waits on, the camera bundle's fence the ponger waits on, two
 * new fences per round as a driver makes one per job); the anchor hands the turn over with
 * {@code LockSupport.park/unpark}, the floor of any blocking hand-off in Java.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FenceBench {
    /** How long a waiter parks before looking at the turn and at the end of the iteration again. */
    static final long RECHECK_NANOS = 1_000_000;

    /** One round trip's fences, and the next round's, published before the request is signalled. */
    static final class Round {
        final DmaFence request;
        final DmaFence reply;
        volatile Round next;

        Round(DmaFence request, DmaFence reply) {
            this.request = request;
            this.reply = reply;
        }
    }

    /** Two bundles' fence timelines and the round each side is at (each side touches only its own). */
    @State(Scope.Group)
    public static class Fences {
        CoreRig rig;
        FenceContext ping;
        FenceContext pong;
        Round pingRound;
        Round pongRound;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            ping = rig.camera.fenceContext("bench", "ping");
            pong = rig.gpu.fenceContext("bench", "pong");
            pingRound = new Round(ping.createFence(), pong.createFence());
            pongRound = pingRound;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            rig.close();
        }
    }

    /** First thread: signals the request fence and waits for the reply fence. */
    @Benchmark
    @Group("fence")
    @GroupThreads(1)
    public int fencePing(Fences f, Control control) {
        Round r = f.pingRound;
        Round n = new Round(f.ping.createFence(), f.pong.createFence());
        r.next = n;
        f.pingRound = n;
        r.request.signal();
        while (!r.reply.await(RECHECK_NANOS, TimeUnit.NANOSECONDS)) {
            if (control.stopMeasurement) {
                return -1;
            }
        }
        return 0;
    }

    /** Second thread: waits for the request fence, signals the reply fence. */
    @Benchmark
    @Group("fence")
    @GroupThreads(1)
    public int fencePong(Fences f, Control control) {
        Round r = f.pongRound;
        while (!r.request.await(RECHECK_NANOS, TimeUnit.NANOSECONDS)) {
            if (control.stopMeasurement) {
                return -1;
            }
        }
        f.pongRound = r.next;
        r.reply.signal();
        return 0;
    }

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
