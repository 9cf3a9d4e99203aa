package dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;

import org.junit.Before;
import org.junit.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.udmabuf.Udmabuf;
import dmabuf.api.udmabuf.UdmabufRange;
import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.UnixSocket;

/**
 * Real OS file descriptors inside the framework: a bundle allocates from the memfd heap, exports the buffer's OS fd,
 * sends it over a Unix socket and reads the same pages through the received fd; the kernel keeps the memfd sealed;
 * udmabuf turns a memfd of the bundle's own into a dma-buf. Every test leaves no buffer behind.
 */
public class OsFdIT extends DmaBufTestSupport {
    private static final long PAGE = DmaBufUapi.PAGE_SIZE;

    private DmaBufRegistry registry;

    @Before
    public void memfdHeapIsThere() {
        assumeTrue("memfds exist only on Linux: " + Libc.unavailableReason(), Libc.available());
        registry = awaitService(DmaBufRegistry.class, null, TIMEOUT);
        awaitCondition(dmabuf.api.runtime.DmaBufRuntime.class, () -> registry.heaps().contains("memfd"), TIMEOUT,
                () -> "the memfd heap registered with the core; heaps: " + registry.heaps());
    }

    @Test
    public void aMemfdBufferLeavesTheJvmAsASealedOsFdOverASocket() {
        int fd = registry.heapAllocate("memfd", 4 * PAGE, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, 0);
        DmaBuf buf = registry.get(fd);
        int os = -1;
        int received = -1;
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket mine = pair[0]; UnixSocket theirs = pair[1]) {
            registry.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
            MemorySegment v = registry.vmap(buf);
            v.set(ValueLayout.JAVA_LONG, 3 * PAGE, 0x0DDB_A11_5EA1EDL);
            registry.vunmap(buf, v);
            registry.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);

            os = registry.osFd(buf);
            assertTrue("osFd is close-on-exec by default", Libc.isCloseOnExec(os));
            assertEquals(Libc.F_SEAL_SHRINK | Libc.F_SEAL_GROW | Libc.F_SEAL_SEAL, Libc.getSeals(os));
            mine.sendFd(os);
            received = theirs.receiveFd(Duration.ofMillis(TIMEOUT));
            assertNotEquals(os, received);
            try (MappedRegion far = MappedRegion.map(new MappedRegion.FileRange(received, 0, 4 * PAGE),
                    Libc.PROT_READ)) {
                assertEquals(0x0DDB_A11_5EA1EDL, far.segment().get(ValueLayout.JAVA_LONG, 3 * PAGE));
            }
        } finally {
            if (os >= 0) {
                Libc.close(os);
            }
            if (received >= 0) {
                Libc.close(received);
            }
            registry.put(buf);
            registry.close(fd);
        }
    }

    @Test
    public void buffersOfSimulatedMemoryHaveNoOsFd() {
        awaitCondition(dmabuf.api.runtime.DmaBufRuntime.class, () -> registry.heaps().contains("system"), TIMEOUT,
                () -> "the system heap; heaps: " + registry.heaps());
        int fd = registry.heapAllocate("system", PAGE, DmaBufUapi.O_RDWR, 0);
        DmaBuf buf = registry.get(fd);
        try {
            registry.osFd(buf);
            throw new AssertionError("osFd of a system heap buffer must fail");
        } catch (DmaBufException e) {
            assertEquals(Errno.EINVAL, e.errno());
        } finally {
            registry.put(buf);
            registry.close(fd);
        }
    }

    @Test
    public void udmabufMakesADmaBufOfTheBundlesOwnMemfd() {
        Udmabuf udmabuf = awaitService(Udmabuf.class, null, TIMEOUT);
        int memfd = Libc.memfdCreate("osfd-it", Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
        try {
            Libc.ftruncate(memfd, 2 * PAGE);
            try {
                udmabuf.create(registry, new UdmabufRange(memfd, 0, 2 * PAGE), 0);
                throw new AssertionError("an unsealed memfd must be refused");
            } catch (DmaBufException e) {
                assertEquals(Errno.EINVAL, e.errno());
            }
            Libc.addSeals(memfd, Libc.F_SEAL_SHRINK);
            int fd = udmabuf.createList(registry, List.of(new UdmabufRange(memfd, PAGE, PAGE),
                    new UdmabufRange(memfd, 0, PAGE)), Udmabuf.UDMABUF_FLAGS_CLOEXEC);
            DmaBuf buf = registry.get(fd);
            try (MappedRegion mine = MappedRegion.map(new MappedRegion.FileRange(memfd, 0, 2 * PAGE),
                    Libc.PROT_READ | Libc.PROT_WRITE)) {
                mine.segment().set(ValueLayout.JAVA_INT, PAGE, 77);
                registry.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
                MemorySegment v = registry.vmap(buf);
                assertEquals(77, v.get(ValueLayout.JAVA_INT, 0));
                registry.vunmap(buf, v);
                registry.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            } finally {
                registry.put(buf);
                registry.close(fd);
            }
            assertFalse(registry.bufinfo().contains("udmabuf"));
        } finally {
            Libc.close(memfd);
        }
    }
}
