package dmabuf.bench;

import java.lang.foreign.Arena;
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

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;

/**
 * Attach + map of an 8 MiB buffer of 2048 scattered pages (a table of one entry per page, which the core checks
 * against the device entry by entry): the first map, and the cached re-map an importer that keeps its attachment
 * gets.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MapBench {
    /** 8 MiB. */
    static final long SIZE = 8L << 20;
    /** Its pages. */
    static final long PAGES = SIZE / 4096;

    /** A scattered buffer without table caching, and one with, attached and mapped once by the GPU bundle. */
    @State(Scope.Thread)
    public static class Scattered {
        CoreRig rig;
        Arena arena;
        DmaBuf uncached;
        DmaBuf cached;
        DmaBufAttachment attachment;
        final Device device = Device.of("gpu0");

        @Setup(Level.Trial)
        public void setUp() {
            rig = new CoreRig();
            arena = Arena.ofShared();
            uncached = rig.camera.export(ExportInfo.builder(
                    new RigOps(RigOps.storage(arena, SIZE), 1L << 32, true, false, false), SIZE).build());
            cached = rig.camera.export(ExportInfo.builder(
                    new RigOps(RigOps.storage(arena, SIZE), 2L << 32, true, true, false), SIZE).build());
            rig.gpu.get(uncached);
            rig.gpu.get(cached);
            attachment = rig.gpu.attach(cached, device);
            SgTable first = rig.gpu.mapAttachment(attachment, DmaDataDirection.BIDIRECTIONAL);
            if (first.nents() != PAGES) {
                throw new IllegalStateException("expected a table of " + PAGES + " entries, got " + first.nents());
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            rig.gpu.detach(attachment);
            rig.close();
            arena.close();
        }
    }

    /** attach + first map + unmap + detach of the 2048-page buffer. */
    @Benchmark
    public int firstMap(Scattered s) {
        DmaBufAttachment a = s.rig.gpu.attach(s.uncached, s.device);
        SgTable t = s.rig.gpu.mapAttachment(a, DmaDataDirection.BIDIRECTIONAL);
        s.rig.gpu.unmapAttachment(a, t, DmaDataDirection.BIDIRECTIONAL);
        s.rig.gpu.detach(a);
        return t.nents();
    }

    /** map + unmap of the kept attachment: the cached table. */
    @Benchmark
    public SgTable cachedMap(Scattered s) {
        SgTable t = s.rig.gpu.mapAttachment(s.attachment, DmaDataDirection.BIDIRECTIONAL);
        s.rig.gpu.unmapAttachment(s.attachment, t, DmaDataDirection.BIDIRECTIONAL);
        return t;
    }
}
