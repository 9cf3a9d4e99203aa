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
import org.openjdk.jmh.annotations.Threads;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.core.file.FileTable;
import dmabuf.exporter.example.PoolBridge;

/**
 * References and fds: {@code get(buf)} + {@code put} by an importing bundle (1 thread, and 2 threads of that bundle
 * on the same buffer), and the fd -> buffer lookup in a bundle's file table (1 and 2 threads).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RefBench {
    /** One live pooled buffer the camera exported; the GPU bundle holds an fd of its own to it. */
    @State(Scope.Benchmark)
    public static class Live {
        CoreRig rig;
        PoolBridge pool;
        DmaBuf buffer;
        FileTable gpuFiles;
        int gpuFd;

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            pool = new PoolBridge(rig.camera, 1, 4096, false);
            buffer = pool.export();
            rig.gpu.get(buffer);
            gpuFd = rig.gpu.fd(buffer, DmaBufUapi.O_RDWR);
            gpuFiles = rig.gpuClient.files();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            rig.close();
            pool.close();
        }
    }

    /** {@code get(buf)} + {@code put(buf)} (get_dma_buf / dma_buf_put) by the GPU bundle. */
    @Benchmark
    public DmaBuf getPut(Live l) {
        DmaBuf b = l.rig.gpu.get(l.buffer);
        l.rig.gpu.put(b);
        return b;
    }

    /** The same from 2 threads of the GPU bundle on the same buffer. */
    @Benchmark
    @Threads(2)
    public DmaBuf getPut2t(Live l) {
        DmaBuf b = l.rig.gpu.get(l.buffer);
        l.rig.gpu.put(b);
        return b;
    }

    /** fd -> buffer in the bundle's file table (the lookup inside every fd call: the kernel's fget). */
    @Benchmark
    public Object lookup(Live l) {
        return l.gpuFiles.get(l.gpuFd).buffer();
    }

    /** The same from 2 threads. */
    @Benchmark
    @Threads(2)
    public Object lookup2t(Live l) {
        return l.gpuFiles.get(l.gpuFd).buffer();
    }
}
