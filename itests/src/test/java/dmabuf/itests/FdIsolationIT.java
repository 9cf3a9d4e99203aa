package dmabuf.itests;

import static org.junit.Assert.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.Test;
import org.osgi.framework.Bundle;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;

/**
 * fds are per bundle, as per process in Linux: bundle B cannot reach a buffer through bundle A's fd numbers (EBADF,
 * even when B has an fd of the same number), but A can pass the buffer itself, as an object (SCM_RIGHTS), and B
 * takes its own reference and its own fd.
 */
public class FdIsolationIT extends DmaBufTestSupport {
    private static final long SIZE = 4 * DmaBufUapi.PAGE_SIZE;

    @Test
    public void bundleBCannotUseTheFdNumbersOfBundleAButCanUseABufferPassedAsAnObject() {
        Bundle a = throwaway(ThrowawayBundles.BUNDLE_A);
        Bundle b = throwaway(ThrowawayBundles.BUNDLE_B);
        DmaBufRegistry ra = registryOf(a);
        DmaBufRegistry rb = registryOf(b);
        ArenaOps ops = new ArenaOps(SIZE);

        DmaBuf buf = ra.export(ExportInfo.builder(ops, SIZE).name("a-frame").build());
        int fdA = ra.fd(buf, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC); // A's reference moves into the fd
        assertErrno(Errno.EBADF, () -> rb.get(fdA));
        assertErrno(Errno.EBADF, () -> rb.dup(fdA));
        assertErrno(Errno.EBADF, () -> rb.fdinfo(fdA));
        assertErrno(Errno.EBADF, () -> rb.mmap(fdA, 0, SIZE, DmaBufUapi.PROT_READ));
        assertErrno(Errno.EBADF, () -> rb.close(fdA));
        assertEquals("B's failed close left A's fd alone", 1, ra.fdinfo(fdA).count());

        DmaBuf passed = ra.get(fdA);            // A takes an object reference to pass on ...
        rb.get(passed);                         // ... and B takes its own on receipt
        int fdB = rb.fd(passed, DmaBufUapi.O_RDWR);
        assertEquals("B's first fd has the same number as A's, and is another file", fdA, fdB);
        assertEquals("A's fd, A's object reference, B's fd", 3, ra.fdinfo(fdA).count());

        MemorySegment viewA = ra.vmap(buf);
        viewA.set(ValueLayout.JAVA_INT, 64, 0x5EEDF00D);
        DmaBuf inB = rb.get(fdB);
        MemorySegment viewB = rb.vmap(inB);
        assertEquals("B sees A's bytes: one buffer, no copy", 0x5EEDF00D, viewB.get(ValueLayout.JAVA_INT, 64));
        rb.vunmap(inB, viewB);
        rb.put(inB);
        rb.close(fdB);
        assertErrno(Errno.EBADF, () -> rb.get(fdB));
        ra.vunmap(buf, viewA);
        assertEquals("A's fd is untouched by B's close of the same number: A's fd and object reference remain", 2,
                ra.fdinfo(fdA).count());

        ra.put(passed);
        ra.close(fdA);
        assertEquals("release ran once, after the last reference of both bundles", 1, ops.released.get());
    }
}
