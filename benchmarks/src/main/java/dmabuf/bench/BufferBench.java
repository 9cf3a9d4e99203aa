package dmabuf.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.ExportInfo;
import dmabuf.core.CoreConfig;
import dmabuf.core.LeakReportLevel;
import dmabuf.exporter.example.PoolBridge;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

/**
 * A buffer's life: from an exporter's pool and back, export of a fresh buffer, an fd round trip through a second
 * bundle, and what leak tracking adds.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class BufferBench {
    /** The example exporter's pool of two frames of the given size, in a core. */
    @State(Scope.Thread)
    public static class Pool {
        @Param({"4096", "8388608", "33554432"})
        public long size;
        CoreRig rig;
        PoolBridge pool;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            pool = new PoolBridge(rig.camera, 2, size, false);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            rig.close();
            pool.close();
        }
    }

    /** A buffer from the exporter's pool (pre-faulted, exported) and its release back into the pool. */
    @Benchmark
    public long poolExportRelease(Pool p) {
        DmaBuf b = p.pool.export();
        long size = b.size();
        p.rig.camera.put(b);
        return size;
    }

    /** A core alone. */
    @State(Scope.Thread)
    public static class Core {
        CoreRig rig;
        PoolBridge pool;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            pool = new PoolBridge(rig.camera, 2, 4096, false);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            rig.close();
            pool.close();
        }
    }

    /** Export + release of a 4 KiB buffer whose exporter gives each buffer its own shared arena. */
    @Benchmark
    public long exportRelease4k(Core c) {
        DmaBuf b = c.rig.camera.export(ExportInfo.builder(new RigOps.ArenaPerBuffer(4096), 4096).build());
        long size = b.size();
        c.rig.camera.put(b);
        return size;
    }

    /**
     * Export -> fd -> import in another bundle -> close both: the camera exports a pooled 4 KiB buffer and moves its
     * reference into an fd; the GPU bundle takes the buffer, installs its own fd, and both close theirs (the last
     * close releases the buffer back into the pool).
     */
    @Benchmark
    public int fdRoundTrip(Core c) {
        DmaBuf b = c.pool.export();
        int cameraFd = c.rig.camera.fd(b, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC);
        c.rig.gpu.get(b);
        int gpuFd = c.rig.gpu.fd(b, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC);
        c.rig.gpu.close(gpuFd);
        c.rig.camera.close(cameraFd);
        return cameraFd + gpuFd;
    }

    /** Leak tracking off and on: the core's report level and Netty's detector level, the same name for both. */
    @State(Scope.Thread)
    public static class Leak {
        @Param({"DISABLED", "SIMPLE"})
        public String level;
        CoreRig rig;
        PoolBridge pool;
        private ResourceLeakDetector.Level before;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig(CoreConfig.DEFAULTS.withLeakReportLevel(LeakReportLevel.valueOf(level)));
            pool = new PoolBridge(rig.camera, 2, 4096, false);
            before = ResourceLeakDetector.getLevel();
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.valueOf(level));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            ResourceLeakDetector.setLevel(before);
            rig.close();
            pool.close();
        }
    }

    /** A pooled 4 KiB buffer exported and released with the core's leak tracking at the level. */
    @Benchmark
    public long leakCore(Leak l) {
        DmaBuf b = l.pool.export();
        long size = b.size();
        l.rig.camera.put(b);
        return size;
    }

    /** Anchor: Netty's pooled 4 KiB direct buffer allocated and released with its leak detector at the level. */
    @Benchmark
    public boolean leakNetty(Leak l) {
        return PooledByteBufAllocator.DEFAULT.directBuffer(4096).release();
    }
}
