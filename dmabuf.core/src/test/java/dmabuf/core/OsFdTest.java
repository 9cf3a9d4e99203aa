package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;

/** The core's side of {@code osFd}: flags, who may ask, the optional op, and exporter failures. */
class OsFdTest {
    private static final long SIZE = 4 * DmaBufUapi.PAGE_SIZE;

    /** An exporter with an OS fd: hands out made-up fd numbers and records the close-on-exec it was asked for. */
    static final class FileExporter extends TestExporter {
        final List<Boolean> asked = new CopyOnWriteArrayList<>();
        volatile RuntimeException failure;

        FileExporter() {
            super(SIZE);
        }

        @Override
        public int osFd(DmaBuf dmaBuf, boolean closeOnExec) {
            called("osFd");
            if (failure != null) {
                throw failure;
            }
            asked.add(closeOnExec);
            return 1000 + asked.size();
        }
    }

    @Test
    void theOpGetsTheCloseOnExecAndItsFdPassesThrough() {
        CoreFixture f = new CoreFixture();
        FileExporter ops = new FileExporter();
        DmaBuf buf = f.export(ops, SIZE);
        assertEquals(1001, f.exp.osFd(buf));
        assertEquals(1002, f.exp.osFd(buf, 0));
        assertEquals(1003, f.exp.osFd(buf, DmaBufUapi.O_CLOEXEC));
        assertEquals(List.of(true, false, true), ops.asked);
        assertErrno(Errno.EINVAL, () -> f.exp.osFd(buf, DmaBufUapi.O_RDWR));
        assertErrno(Errno.EINVAL, () -> f.exp.osFd(buf, 0x1));
        assertEquals(3, ops.count("osFd"), "refused flags never reach the exporter");
        f.exp.put(buf);
    }

    @Test
    void anExporterWithoutTheOpIsEinvalAndOnlyHoldersMayAsk() {
        CoreFixture f = new CoreFixture();
        DmaBuf plain = f.export(new TestExporter(SIZE), SIZE);
        DmaBufException e = assertErrno(Errno.EINVAL, () -> f.exp.osFd(plain));
        assertTrue(e.getMessage().contains("no OS file descriptor"), e.getMessage());
        f.exp.put(plain);

        FileExporter ops = new FileExporter();
        DmaBuf buf = f.export(ops, SIZE);
        assertErrno(Errno.EACCES, () -> f.imp.osFd(buf));
        f.imp.get(buf);
        assertEquals(1001, f.imp.osFd(buf));
        f.imp.put(buf);
        f.exp.put(buf);
        assertErrno(Errno.EBADF, () -> f.exp.osFd(buf));
    }

    @Test
    void revokedBuffersAreEnodevAndExporterBugsAreEio() {
        CoreFixture f = new CoreFixture();
        FileExporter ops = new FileExporter();
        DmaBuf buf = f.exportShared(ops, SIZE);
        ops.failure = new DmaBufException(Errno.EMFILE, "the exporter's process is out of fds");
        assertErrno(Errno.EMFILE, () -> f.imp.osFd(buf)); // a refusal passes through
        ops.failure = new IllegalStateException("bug");
        assertErrno(Errno.EIO, () -> f.imp.osFd(buf));
        assertTrue(f.log.errors.stream().anyMatch(m -> m.contains("osFd")), f.log.errors.toString());
        ops.failure = null;
        f.exp.revoke(buf);
        assertErrno(Errno.ENODEV, () -> f.imp.osFd(buf));
        f.imp.put(buf);
        f.exp.put(buf);
    }
}
