package dmabuf.exporter.scanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.function.Executable;

import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.memory.MemoryStatsDTO;
import dmabuf.core.CoreConfig;
import dmabuf.core.DmaBufCore;
import dmabuf.core.LeakReportLevel;
import dmabuf.core.client.Client;
import dmabuf.core.drivers.DriverTracker;
import dmabuf.memory.BundleMemory;
import dmabuf.memory.MemoryConfig;
import dmabuf.memory.MemoryEngine;

/**
 * A real dma-buf core and memory engine without a framework, the scanout bundle (id 10) using both, a display
 * bundle (id 20) importing, and the device under test with its exporter service registered with the core as SCR
 * would. Each test makes its own and closes it.
 */
final class ScanoutFixture implements AutoCloseable {
    static final long PAGE = 4096;
    static final long MB = 1L << 20;
    static final long SCANOUT_BUNDLE = 10;
    static final long DISPLAY_BUNDLE = 20;
    static final long EXPORTER_SERVICE_ID = 101;

    final RecordingLog coreLog = new RecordingLog();
    final RecordingLog memoryLog = new RecordingLog();
    final RecordingLog deviceLog = new RecordingLog();
    final DmaBufCore core;
    final MemoryEngine engine;
    final Client scanoutClient;
    final Client displayClient;
    /** The scanout bundle's registry: the device exports through it. */
    final DmaBufRegistry exp;
    /** The display bundle's registry: an importer. */
    final DmaBufRegistry imp;
    final BundleMemory memory;
    final ScanoutDevice device;

    /** The default device (card0, 64 MB, 8192x8192). */
    ScanoutFixture() {
        this(ScanoutSettings.DEFAULTS);
    }

    ScanoutFixture(ScanoutSettings settings) {
        this(settings, MemoryConfig.DEFAULTS);
    }

    /** The core tracks every buffer for drops without put (PARANOID), so tests can check they leaked nothing. */
    ScanoutFixture(ScanoutSettings settings, MemoryConfig memoryConfig) {
        core = new DmaBufCore(CoreConfig.DEFAULTS.withLeakReportLevel(LeakReportLevel.PARANOID), coreLog, () -> {
        });
        engine = new MemoryEngine(memoryConfig, memoryLog,
                Map.of(SCANOUT_BUNDLE, "dmabuf.exporter.scanout", DISPLAY_BUNDLE, "display.app")::get);
        scanoutClient = core.openClient(SCANOUT_BUNDLE, "dmabuf.exporter.scanout");
        displayClient = core.openClient(DISPLAY_BUNDLE, "display.app");
        exp = core.registryFor(scanoutClient);
        imp = core.registryFor(displayClient);
        memory = engine.openBundle(SCANOUT_BUNDLE, "dmabuf.exporter.scanout");
        device = new ScanoutDevice(settings, exp, memory, deviceLog);
        registerExporter(settings.name());
    }

    /** What SCR's registration of the DmaBufExporter service tells the core. */
    void registerExporter(String name) {
        core.drivers().add(DriverTracker.Kind.EXPORTER, EXPORTER_SERVICE_ID, SCANOUT_BUNDLE,
                Map.of(DmaBufExporter.NAME, name, DmaBufExporter.DEVICE, name));
    }

    /** What the unregistration of that service tells the core: it revokes the buffers exported under it. */
    void unregisterExporter() {
        core.drivers().remove(DriverTracker.Kind.EXPORTER, EXPORTER_SERVICE_ID);
    }

    /** The device's pool's stats, or null once it is closed. */
    MemoryStatsDTO.PoolStatsDTO poolStats() {
        for (MemoryStatsDTO.PoolStatsDTO p : engine.stats().pools) {
            if (p.name.equals(device.settings().poolName())) {
                return p;
            }
        }
        return null;
    }

    /** True when every page of the pool is free and no allocation is open. */
    boolean poolWhole() {
        MemoryStatsDTO.PoolStatsDTO p = poolStats();
        return p != null && p.live == 0 && p.allocations == 0 && device.pool().available() == p.capacity;
    }

    @Override
    public void close() {
        device.shutdown();
        core.shutdown();
        engine.shutdown();
    }

    /** Asserts that the call fails with the errno, and returns the exception for more checks. */
    static DmaBufException assertErrno(Errno errno, Executable call) {
        DmaBufException e = assertThrows(DmaBufException.class, call);
        assertEquals(errno, e.errno(), () -> "wrong errno; message was: " + e.getMessage());
        return e;
    }
}
