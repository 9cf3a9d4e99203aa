package dmabuf.exporter.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.LongUnaryOperator;

import org.junit.jupiter.api.function.Executable;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.CoreLog;
import dmabuf.core.DmaBufCore;
import dmabuf.core.client.Client;
import dmabuf.core.drivers.DriverTracker;
import dmabuf.memory.BundleMemory;
import dmabuf.memory.MemoryConfig;
import dmabuf.memory.MemoryEngine;
import dmabuf.memory.MemoryLog;

/**
 * A real dma-buf core and memory engine without a framework, the GPU driver's bundle ("dmabuf.exporter.gpu", id 10)
 * and an importing bundle ("importer.bundle", id 20) using them, and a {@link GpuDevice} made as
 * {@link GpuComponent} makes it: with the GPU bundle's registry and physical memory, and its exporter service
 * registered with the core. Each test makes its own and closes it.
 */
final class GpuFixture implements AutoCloseable {
    static final long PAGE = 4096;
    static final long KIB = 1024;
    static final long MIB = 1L << 20;
    static final long GPU_BUNDLE = 10;
    static final long IMPORTER_BUNDLE = 20;
    static final String GPU_BSN = "dmabuf.exporter.gpu";

    /** Every message of every part, with its source. */
    final Recorder log = new Recorder();
    final MemoryEngine engine;
    final BundleMemory gpuMemory;
    final BundleMemory importerMemory;
    final DmaBufCore core;
    final Client gpuClient;
    final Client importerClient;
    /** The GPU bundle's registry: what the driver exports with. */
    final DmaBufRegistry gpuRegistry;
    /** The importing bundle's registry. */
    final DmaBufRegistry imp;
    final GpuDevice gpu;

    GpuFixture() {
        this(GpuSettings.defaults());
    }

    GpuFixture(GpuSettings settings) {
        engine = new MemoryEngine(MemoryConfig.DEFAULTS, log.memory(),
                Map.of(GPU_BUNDLE, GPU_BSN, IMPORTER_BUNDLE, "importer.bundle")::get);
        gpuMemory = engine.openBundle(GPU_BUNDLE, GPU_BSN);
        importerMemory = engine.openBundle(IMPORTER_BUNDLE, "importer.bundle");
        core = new DmaBufCore(CoreConfig.DEFAULTS, log.core(), () -> {
        });
        gpuClient = core.openClient(GPU_BUNDLE, GPU_BSN);
        importerClient = core.openClient(IMPORTER_BUNDLE, "importer.bundle");
        gpuRegistry = core.registryFor(gpuClient);
        imp = core.registryFor(importerClient);
        gpu = new GpuDevice(settings, gpuRegistry, gpuMemory, log.gpu());
        // what the framework does when GpuComponent registers the device's service
        core.drivers().add(DriverTracker.Kind.EXPORTER, 1000, GPU_BUNDLE, Map.of(DmaBufExporter.NAME,
                settings.name(), DmaBufExporter.DEVICE, settings.name(), DmaBufExporter.CAPABILITIES,
                GpuDevice.CAPABILITIES));
    }

    /** Stops the driver, then the core, then the memory. */
    @Override
    public void close() {
        gpu.close();
        core.shutdown();
        engine.shutdown();
    }

    /** The engine's stats of one of the GPU's pools ({@code "vram"} or {@code "sysmem"}), or null when closed. */
    MemoryStatsDTO.PoolStatsDTO pool(String kind) {
        String name = gpu.name() + "-" + kind;
        for (MemoryStatsDTO.PoolStatsDTO p : engine.stats().pools) {
            if (p.name.equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** Bytes allocated from one of the GPU's pools. */
    long live(String kind) {
        return pool(kind).live;
    }

    /** The device's DMA: writes {@code value(offset)} as an int at every 4th byte of the buffer, through the table. */
    void dmaWrite(SgTable table, LongUnaryOperator value) {
        long offset = 0;
        for (SgTable.Entry e : table.entries()) {
            MemorySegment m = importerMemory.resolve(e.dmaAddress(), e.length());
            for (long i = 0; i < e.length(); i += 4) {
                m.set(ValueLayout.JAVA_INT_UNALIGNED, i, (int) value.applyAsLong(offset + i));
            }
            offset += e.length();
        }
    }

    /** The device's DMA: checks every 4th byte of the buffer through the table. */
    void dmaCheck(SgTable table, LongUnaryOperator value) {
        long offset = 0;
        for (SgTable.Entry e : table.entries()) {
            MemorySegment m = importerMemory.resolve(e.dmaAddress(), e.length());
            for (long i = 0; i < e.length(); i += 4) {
                int expected = (int) value.applyAsLong(offset + i);
                int actual = m.get(ValueLayout.JAVA_INT_UNALIGNED, i);
                if (expected != actual) {
                    throw new AssertionError(String.format("byte offset %d (bus 0x%x): expected 0x%x, found 0x%x",
                            offset + i, e.dmaAddress() + i, expected, actual));
                }
            }
            offset += e.length();
        }
    }

    /** True when every segment of the table lies below 4 GiB. */
    static boolean below4G(SgTable table) {
        return table.entries().stream().allMatch(e -> Long.compareUnsigned(e.dmaAddress() + e.length(),
                1L << 32) <= 0);
    }

    /** Asserts that the call fails with the errno, and returns the exception for more checks. */
    static DmaBufException assertErrno(Errno errno, Executable call) {
        DmaBufException e = assertThrows(DmaBufException.class, call);
        assertEquals(errno, e.errno(), () -> "wrong errno; message was: " + e.getMessage());
        return e;
    }

    /** Every message of the driver, the core and the memory engine. */
    static final class Recorder {
        final List<String> warnings = new CopyOnWriteArrayList<>();
        final List<String> errors = new CopyOnWriteArrayList<>();
        final List<String> infos = new CopyOnWriteArrayList<>();

        void info(String source, String m) {
            infos.add(source + ": " + m);
        }

        void warn(String source, String m) {
            warnings.add(source + ": " + m);
        }

        void error(String source, String m) {
            errors.add(source + ": " + m);
        }

        List<String> warningsContaining(String text) {
            return warnings.stream().filter(w -> w.contains(text)).toList();
        }

        GpuLog gpu() {
            return new GpuLog() {
                @Override
                public void info(String message) {
                    Recorder.this.info("gpu", message);
                }

                @Override
                public void warn(String message) {
                    Recorder.this.warn("gpu", message);
                }

                @Override
                public void error(String message, Throwable cause) {
                    Recorder.this.error("gpu", message);
                }

                @Override
                public void debug(String message) {
                }
            };
        }

        CoreLog core() {
            return new CoreLog() {
                @Override
                public void info(String message) {
                    Recorder.this.info("core", message);
                }

                @Override
                public void warn(String message) {
                    Recorder.this.warn("core", message);
                }

                @Override
                public void error(String message, Throwable cause) {
                    Recorder.this.error("core", message);
                }

                @Override
                public void debug(String message) {
                }
            };
        }

        MemoryLog memory() {
            return new MemoryLog() {
                @Override
                public void info(String message) {
                    Recorder.this.info("memory", message);
                }

                @Override
                public void warn(String message) {
                    Recorder.this.warn("memory", message);
                }

                @Override
                public void error(String message, Throwable cause) {
                    Recorder.this.error("memory", message);
                }

                @Override
                public void debug(String message) {
                }
            };
        }
    }
}
