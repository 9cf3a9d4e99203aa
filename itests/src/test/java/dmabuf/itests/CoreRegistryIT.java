package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNotSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogReaderService;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Device;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.SgTable;
import dmabuf.api.runtime.BufferDTO;
import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.api.runtime.ExporterDTO;
import dmabuf.api.runtime.FailedDriverDTO;
import dmabuf.api.runtime.RuntimeDTO;

/**
 * The core in a real framework: the registry is a ServiceFactory (one file table per bundle, reclaimed when the
 * bundle ungets it), the runtime service's change count moves, Configuration Admin reconfigures the core without
 * revoking anything, and the exporter whiteboard is tracked (a rejected service is listed with its reason, a
 * service that goes away takes its buffers with it). Every test leaves no buffer behind.
 */
public class CoreRegistryIT extends DmaBufTestSupport {

    private static final long SIZE = 4 * DmaBufUapi.PAGE_SIZE;

    private DmaBufRegistry registry;
    private DmaBufRuntime runtime;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    @Before
    public void lookUp() {
        registry = awaitService(DmaBufRegistry.class, null, TIMEOUT);
        runtime = awaitService(DmaBufRuntime.class, null, TIMEOUT);
    }

    @After
    public void nothingLeftBehind() {
        registrations.forEach(ServiceRegistration::unregister);
        registrations.clear();
        awaitCondition("no buffer left", () -> runtime.getRuntimeDTO().buffers.length == 0);
    }

    /** A minimal exporter over a slice of one arena; counts releases. */
    static final class ArenaExporter implements DmaBufOps {
        final Arena arena = Arena.ofShared();
        final MemorySegment storage = arena.allocate(SIZE, DmaBufUapi.PAGE_SIZE);
        volatile int released;

        @Override
        public SgTable map(DmaBufAttachment attachment, DmaDataDirection direction) {
            return SgTable.contiguous(0x10_0000, SIZE);
        }

        @Override
        public void unmap(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction) {
        }

        @Override
        public void release(DmaBuf dmaBuf) {
            released++;
        }

        @Override
        public MemorySegment vmap(DmaBuf dmaBuf) {
            return storage;
        }
    }

    @Test
    public void eachBundleHasItsOwnFileTableAndBuffersTravelAsObjects() {
        expectLeak("org.apache.felix.metatype", dmabuf.api.runtime.LeakDTO.KIND_FD);
        ArenaExporter ops = new ArenaExporter();
        DmaBuf buf = registry.export(ExportInfo.builder(ops, SIZE).name("shared").build());
        int fd = registry.fd(buf, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC);
        assertEquals("the first fd of this bundle", 0, fd);

        BundleContext other = bundle("org.apache.felix.metatype").getBundleContext();
        ServiceReference<DmaBufRegistry> ref = other.getServiceReference(DmaBufRegistry.class);
        DmaBufRegistry otherRegistry = other.getService(ref);
        try {
            assertNotSame("a bundle-scoped service: another bundle gets another registry", registry, otherRegistry);
            assertErrno(Errno.EBADF, () -> otherRegistry.get(fd));
            otherRegistry.get(buf); // SCM_RIGHTS-like: the object travels, the receiver takes its own reference
            assertEquals("the receiver's own first fd", 0, otherRegistry.fd(buf, DmaBufUapi.O_RDONLY));
            assertEquals(2, registry.fdinfo(fd).count());
        } finally {
            other.ungetService(ref); // the bundle gives the registry back: what it held is reclaimed
        }
        assertEquals("the other bundle's fd was closed by the reclaim", 1, registry.fdinfo(fd).count());
        assertTrue("the reclaimed fd is reported once as a leak",
                warningsContaining("LEAK").stream().anyMatch(w -> w.contains("org.apache.felix.metatype")
                        && w.contains("'shared'") && w.contains("fd 0")));
        registry.close(fd);
        assertEquals("release ran once, after the last reference", 1, ops.released);
    }

    @Test
    public void changeCountGrowsWhenBuffersComeAndGo() {
        long before = changeCount();
        DmaBuf buf = registry.export(ExportInfo.builder(new ArenaExporter(), SIZE).build());
        awaitCondition("service.changecount published after export", () -> changeCount() > before);
        RuntimeDTO dto = runtime.getRuntimeDTO();
        BufferDTO listed = Arrays.stream(dto.buffers).filter(b -> b.id == buf.id()).findFirst().orElseThrow();
        assertEquals(SIZE, listed.size);
        assertEquals("the exporter name defaults to the exporting bundle's symbolic name",
                bundleContext.getBundle().getSymbolicName(), listed.exporterName);
        assertTrue(runtime.bufinfo().contains("Total 1 objects, " + SIZE + " bytes"));
        registry.put(buf);
    }

    @Test
    public void configurationChangesApplyWithoutRevokingBuffers() throws Exception {
        ConfigurationAdmin configAdmin = awaitService(ConfigurationAdmin.class, null, TIMEOUT);
        DmaBuf buf = registry.export(ExportInfo.builder(new ArenaExporter(), SIZE).build());
        MemorySegment view = registry.vmap(buf);
        Configuration config = configAdmin.getConfiguration("dmabuf.core", "?");
        try {
            Dictionary<String, Object> props = new Hashtable<>();
            props.put("fd.limit", 2);
            config.update(props);
            awaitCondition("the core applied fd.limit=2",
                    () -> Integer.valueOf(2).equals(runtime.getRuntimeDTO().configuration.get("fd.limit")));
            List<Integer> fds = new ArrayList<>();
            registry.get(buf);
            fds.add(registry.fd(buf, DmaBufUapi.O_RDWR));
            fds.add(registry.dup(fds.get(0)));
            DmaBufException e = assertErrno(Errno.EMFILE, () -> registry.dup(fds.get(0)));
            assertTrue(e.getMessage(), e.getMessage().contains("fd_limit"));
            view.set(java.lang.foreign.ValueLayout.JAVA_INT, 0, 42); // the buffer and its view survived the change
            assertEquals(BufferDTO.STATE_LIVE, runtime.getRuntimeDTO().buffers[0].state);
            fds.forEach(registry::close);
        } finally {
            config.delete();
            awaitCondition("defaults restored",
                    () -> Integer.valueOf(1024).equals(runtime.getRuntimeDTO().configuration.get("fd.limit")));
        }
        registry.vunmap(buf, view);
        registry.put(buf);
    }

    @Test
    public void exporterWhiteboardIsTrackedAndItsBuffersGoWithIt() {
        long before = changeCount();
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(DmaBufExporter.NAME, "it-gpu");
        props.put(DmaBufExporter.CAPABILITIES, new String[] {"vmap"});
        ServiceRegistration<DmaBufExporter> exporter =
                bundleContext.registerService(DmaBufExporter.class, new DmaBufExporter() { }, props);
        Dictionary<String, Object> bad = new Hashtable<>();
        bad.put(DmaBufExporter.NAME, "  ");
        registrations.add(bundleContext.registerService(DmaBufExporter.class, new DmaBufExporter() { }, bad));
        awaitCondition("both exporter services seen", () -> changeCount() > before
                && exporter("it-gpu") != null && runtime.getRuntimeDTO().failedDrivers.length == 1);
        RuntimeDTO dto = runtime.getRuntimeDTO();
        assertEquals(bundleContext.getBundle().getBundleId(), exporter("it-gpu").bundleId);
        assertEquals(FailedDriverDTO.FAILURE_REASON_INVALID_NAME, dto.failedDrivers[0].failureReason);

        ArenaExporter ops = new ArenaExporter();
        DmaBuf buf = registry.export(ExportInfo.builder(ops, SIZE).exporter("it-gpu").build());
        assertEquals("it-gpu", buf.exporterName());
        MemorySegment view = registry.vmap(buf);

        props.put(DmaBufExporter.DEVICE, "gpu0"); // a configuration change of the driver: nothing is revoked
        exporter.setProperties(props);
        awaitCondition("device property seen", () -> "gpu0".equals(exporter("it-gpu").device));
        assertNotNull(registry.vmap(buf));
        registry.vunmap(buf, view);

        exporter.unregister(); // the driver goes away: its buffers are revoked
        assertErrno(Errno.ENODEV, () -> registry.vmap(buf));
        assertEquals("release ran at the revoke", 1, ops.released);
        try {
            view.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0);
            fail("a stale view must not reach the released storage");
        } catch (IllegalStateException expected) {
            // the buffer's arena is closed
        }
        registry.vunmap(buf, view); // cleanup after a revoke succeeds
        registry.put(buf);
        assertEquals("release never runs twice", 1, ops.released);
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /** The accepted exporter with that name, or null (other bundles, such as the heaps, register exporters too). */
    private ExporterDTO exporter(String name) {
        return Arrays.stream(runtime.getRuntimeDTO().exporters).filter(e -> name.equals(e.name)).findFirst()
                .orElse(null);
    }

    private long changeCount() {
        ServiceReference<DmaBufRuntime> ref = bundleContext.getServiceReference(DmaBufRuntime.class);
        return (Long) ref.getProperty(Constants.SERVICE_CHANGECOUNT);
    }

    private List<String> warningsContaining(String text) {
        LogReaderService reader = awaitService(LogReaderService.class, null, TIMEOUT);
        List<String> found = new ArrayList<>();
        for (Enumeration<LogEntry> e = reader.getLog(); e.hasMoreElements();) {
            LogEntry entry = e.nextElement();
            if (entry.getLogLevel() == LogLevel.WARN && entry.getMessage().contains(text)) {
                found.add(entry.getMessage());
            }
        }
        Collections.reverse(found);
        return found;
    }

    /** Waits until the condition holds, re-checked whenever the runtime service publishes a change. */
    private void awaitCondition(String what, BooleanSupplier condition) {
        awaitCondition(DmaBufRuntime.class, condition, TIMEOUT, () -> "waiting for " + what);
    }
}
