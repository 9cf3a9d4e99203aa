package dmabuf.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.function.Executable;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.os.Libc;

/**
 * An engine without a framework and two bundles using it: "gpu.driver" (id 10, {@link #gpu}) and "camera.app"
 * (id 20, {@link #cam}); bundle 30 "display.app" exists but has not used the service. Each test makes its own and
 * closes it with {@link #close()}.
 */
public class MemoryFixture implements AutoCloseable {
    /** One page. */
    public static final long PAGE = 4096;
    /** One MiB. */
    public static final long MIB = 1L << 20;
    /** True where pools are memfds and aliases are possible. */
    public static final boolean LINUX = Libc.available();

    private static final Map<Long, String> BUNDLES = Map.of(10L, "gpu.driver", 20L, "camera.app", 30L,
            "display.app");

    /** What the engine logged. */
    public final RecordingLog log = new RecordingLog();
    /** The engine. */
    public final MemoryEngine engine;
    /** The GPU driver bundle's facade. */
    public final BundleMemory gpu;
    /** The camera bundle's facade. */
    public final BundleMemory cam;

    /** The default configuration (1 GiB limit, no quota), memfd backing where available. */
    public MemoryFixture() {
        this(MemoryConfig.DEFAULTS);
    }

    /** The given configuration, memfd backing where available. */
    public MemoryFixture(MemoryConfig config) {
        this(config, true);
    }

    /** The given configuration and backing. */
    public MemoryFixture(MemoryConfig config, boolean nativeBacking) {
        engine = new MemoryEngine(config, log, BUNDLES::get, nativeBacking);
        gpu = engine.openBundle(10, "gpu.driver");
        cam = engine.openBundle(20, "camera.app");
    }

    @Override
    public void close() {
        engine.shutdown();
    }

    /** The stats of one pool. */
    public MemoryStatsDTO.PoolStatsDTO pool(String name) {
        for (MemoryStatsDTO.PoolStatsDTO p : engine.stats().pools) {
            if (p.name.equals(name)) {
                return p;
            }
        }
        throw new AssertionError("no pool " + name);
    }

    /** The stats of one bundle, or null. */
    public MemoryStatsDTO.BundleStatsDTO bundle(long id) {
        for (MemoryStatsDTO.BundleStatsDTO b : engine.stats().bundles) {
            if (b.bundleId == id) {
                return b;
            }
        }
        return null;
    }

    /** Asserts that the call fails with the errno, and returns the exception for more checks. */
    public static DmaBufException assertErrno(Errno errno, Executable call) {
        DmaBufException e = assertThrows(DmaBufException.class, call);
        assertEquals(errno, e.errno(), () -> "wrong errno; message was: " + e.getMessage());
        return e;
    }
}
