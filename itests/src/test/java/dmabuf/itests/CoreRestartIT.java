package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import org.junit.Test;
import org.osgi.framework.Bundle;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.runtime.RuntimeDTO;

/**
 * The core bundle restarts under running drivers: every buffer of the old core is revoked and released (its views
 * throw, its handles are refused by the new core with ENODEV), and every exporter and importer binds to the new
 * core: the heaps register again, the example drivers stream again and are listed.
 */
public class CoreRestartIT extends ExampleStreamTestSupport {
    private static final long SIZE = 4 * DmaBufUapi.PAGE_SIZE;

    @Test
    public void everyDriverRebindsAndNoBufferOfTheOldCoreSurvives() throws Exception {
        configureExampleStream(1_000_000, 5);
        startExampleImporter();
        startExampleExporter();
        awaitSinkFrames(0, 3);

        DmaBufRegistry oldRegistry = awaitService(DmaBufRegistry.class, null, TIMEOUT);
        Bundle importer = throwaway(ThrowawayBundles.IMPORTER);
        DmaBufRegistry oldImporter = registryOf(importer);
        ArenaOps ops = new ArenaOps(SIZE);
        DmaBuf buf = oldRegistry.export(ExportInfo.builder(ops, SIZE).name("old-core").build());
        oldImporter.get(buf);
        oldImporter.attach(buf, Device.of("gpu0"));
        MemorySegment view = oldRegistry.vmap(buf);
        long oldRuntime = runtimeServiceId();

        Bundle core = bundle(DmaBufOptions.CORE_BSN);
        core.stop();
        assertEquals("the old core released its buffer once", 1, ops.released.get());
        try {
            view.get(ValueLayout.JAVA_BYTE, 0);
            fail("a view of the old core's buffer must not reach its storage");
        } catch (IllegalStateException expected) {
            // revoked at the core's shutdown
        }
        core.start();

        DmaBufRegistry newRegistry = awaitService(DmaBufRegistry.class, null, TIMEOUT);
        assertNotSame(oldRegistry, newRegistry);
        assertTrue("a new runtime service", runtimeServiceId() != oldRuntime);
        assertErrno(Errno.ENODEV, () -> newRegistry.get(buf));
        assertErrno(Errno.ENODEV, () -> newRegistry.vmap(buf));

        long frames = sinkFrames();
        awaitSinkFrames(frames, 3);
        awaitRuntime("every driver bound to the new core", () -> {
            RuntimeDTO dto = runtime().getRuntimeDTO();
            return Arrays.stream(dto.exporters).anyMatch(e -> "example".equals(e.name))
                    && Arrays.stream(dto.importers).anyMatch(i -> "crc32".equals(i.name))
                    && newRegistry.heaps().containsAll(List.of("system", "reserved"));
        });
        assertEquals("release never ran twice", 1, ops.released.get());
        RuntimeDTO dto = runtime().getRuntimeDTO();
        assertTrue("no buffer of the old core in the new one",
                Arrays.stream(dto.buffers).noneMatch(b -> b.id == buf.id() && "old-core".equals(b.name)));
    }

    private long runtimeServiceId() {
        return (Long) bundleContext.getServiceReference(dmabuf.api.runtime.DmaBufRuntime.class)
                .getProperty(org.osgi.framework.Constants.SERVICE_ID);
    }
}
