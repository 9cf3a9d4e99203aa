package dmabuf.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.junit.jupiter.api.function.Executable;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.client.Client;
import dmabuf.core.drivers.DriverTracker;
import dmabuf.core.leak.TrackedDmaBuf;

/**
 * A core without a framework, with two bundles using it: "exporter.bundle" (id 10, {@link #exp}) and
 * "importer.bundle" (id 20, {@link #imp}). Each test makes its own.
 */
public class CoreFixture {
    /** What the core logged. */
    public final RecordingLog log = new RecordingLog();
    /** The core. */
    public final DmaBufCore core;
    /** The exporting bundle's client. */
    public final Client expClient;
    /** The importing bundle's client. */
    public final Client impClient;
    /** The exporting bundle's registry. */
    public final DmaBufRegistry exp;
    /** The importing bundle's registry. */
    public final DmaBufRegistry imp;

    /** A fixture with the default configuration. */
    public CoreFixture() {
        this(CoreConfig.DEFAULTS.withLeakReportLevel(LeakReportLevel.PARANOID));
    }

    /** A fixture with the given configuration. */
    public CoreFixture(CoreConfig config) {
        core = new DmaBufCore(config, log, () -> {
        });
        expClient = core.openClient(10, "exporter.bundle");
        impClient = core.openClient(20, "importer.bundle");
        exp = core.registryFor(expClient);
        imp = core.registryFor(impClient);
    }

    /** A third bundle's registry. */
    public DmaBufRegistry bundle(long id, String symbolicName) {
        return core.registryFor(core.openClient(id, symbolicName));
    }

    /** Exports a buffer of {@code size} bytes from the exporting bundle with the given ops. */
    public DmaBuf export(TestExporter ops, long size) {
        return exp.export(ExportInfo.builder(ops, size).build());
    }

    /** Exports and hands the buffer to the importing bundle, which takes its own reference. */
    public DmaBuf exportShared(TestExporter ops, long size) {
        DmaBuf b = export(ops, size);
        imp.get(b);
        return b;
    }

    /** Registers an exporter service of the exporting bundle. */
    public void registerExporter(long serviceId, String name) {
        core.drivers().add(DriverTracker.Kind.EXPORTER, serviceId, expClient.bundleId(),
                Map.of(dmabuf.api.DmaBufExporter.NAME, name));
    }

    /** The core's buffer behind a DmaBuf the registry returned (unwrapping the leak detector's handle). */
    public static Buffer raw(DmaBuf buf) {
        return buf instanceof TrackedDmaBuf t ? t.buffer() : (Buffer) buf;
    }

    /** Asserts that the call fails with the errno, and returns the exception for more checks. */
    public static DmaBufException assertErrno(Errno errno, Executable call) {
        DmaBufException e = assertThrows(DmaBufException.class, call);
        assertEquals(errno, e.errno(), () -> "wrong errno; message was: " + e.getMessage());
        return e;
    }
}
