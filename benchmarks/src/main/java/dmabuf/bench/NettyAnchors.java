package dmabuf.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

/**
 * The peer's figures, Netty 4.2 pooled direct buffers with leak detection DISABLED (the fork's
 * {@code -Dio.netty.leakDetection.level}): what a user would pick instead of the platform.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NettyAnchors {
    /** One pooled 4 KiB direct buffer kept for the refcount anchors. */
    @State(Scope.Benchmark)
    public static class Pooled {
        ByteBuf buffer;

        @Setup(Level.Trial)
        public void setUp() {
            buffer = PooledByteBufAllocator.DEFAULT.directBuffer(4096);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            buffer.release();
        }
    }

    /** Anchor: {@code PooledByteBufAllocator.DEFAULT.directBuffer(4 KiB)} + release. */
    @Benchmark
    public boolean pooledAlloc4k() {
        return PooledByteBufAllocator.DEFAULT.directBuffer(4096).release();
    }

    /** Anchor: retain + release of a pooled buffer. */
    @Benchmark
    public boolean retainRelease(Pooled p) {
        return p.buffer.retain().release();
    }

    /** Anchor: retainedDuplicate + release of a pooled buffer (a second view sharing the memory). */
    @Benchmark
    public boolean retainedDuplicate(Pooled p) {
        return p.buffer.retainedDuplicate().release();
    }
}
