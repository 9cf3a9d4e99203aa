package dmabuf.core;

import static dmabuf.api.DmaBufUapi.PAGE_SIZE;
import static dmabuf.api.DmaBufUapi.PROT_READ;
import static dmabuf.api.DmaBufUapi.PROT_WRITE;
import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufMapping;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.VmArea;

/** mmap of a dma-buf fd and dma_buf_mmap: range and access checks, exact lengths, references and scope. */
class MmapTest {
    private static final long SIZE = 4 * PAGE_SIZE;
    private static final int RW = PROT_READ | PROT_WRITE;

    private final CoreFixture f = new CoreFixture();

    /** Exports from the exporting bundle and moves its reference into an fd with the given flags. */
    private int exportFd(TestExporter ops, long size, int exportFlags, int fdFlags) {
        DmaBuf buf = f.exp.export(ExportInfo.builder(ops, size).flags(exportFlags).build());
        return f.exp.fd(buf, fdFlags);
    }

    private int exportFd(TestExporter ops, long size) {
        return exportFd(ops, size, DmaBufUapi.O_RDWR, DmaBufUapi.O_RDWR);
    }

    private long count(int fd) {
        return f.exp.fdinfo(fd).count();
    }

    @Test
    void mmapOfTheWholeBuffer() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);

        DmaBufMapping m = f.exp.mmap(fd, 0, SIZE, RW);

        assertEquals(SIZE, m.length());
        assertEquals(SIZE, m.segment().byteSize());
        assertEquals(0, m.offset());
        assertEquals(RW, m.prot());
        assertTrue(m.isMapped());
        assertEquals(ops.storage.address(), m.segment().address());
        assertEquals(1, ops.count("mmap"));
        assertSame(f.exp.get(fd), m.dmaBuf());
    }

    @Test
    void mappingLengthIsTheRequestRoundedUpToPages() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);

        DmaBufMapping one = f.exp.mmap(fd, 0, 1, PROT_READ);
        DmaBufMapping exact = f.exp.mmap(fd, PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ);
        DmaBufMapping partial = f.exp.mmap(fd, PAGE_SIZE, PAGE_SIZE + 100, PROT_READ);

        assertEquals(PAGE_SIZE, one.length());
        assertEquals(PAGE_SIZE, one.segment().byteSize());
        assertEquals(2 * PAGE_SIZE, exact.segment().byteSize());
        assertEquals(PAGE_SIZE, exact.offset());
        assertEquals(ops.storage.address() + PAGE_SIZE, exact.segment().address());
        assertEquals(2 * PAGE_SIZE, partial.length());
        assertEquals(2 * PAGE_SIZE, partial.segment().byteSize());
    }

    @Test
    void mappingNeverGrowsWhenTheExporterReturnsMore() {
        TestExporter ops = new TestExporter(SIZE);
        ops.mmapOverride = vma -> ops.storage; // the whole storage, whatever was asked
        int fd = exportFd(ops, SIZE);

        DmaBufMapping m = f.exp.mmap(fd, 0, PAGE_SIZE, RW);

        assertEquals(PAGE_SIZE, m.length());
        assertEquals(PAGE_SIZE, m.segment().byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> m.segment().get(ValueLayout.JAVA_BYTE, PAGE_SIZE));
        assertThrows(IndexOutOfBoundsException.class,
                () -> m.segment().set(ValueLayout.JAVA_BYTE, PAGE_SIZE, (byte) 1));
        assertEquals(0, ops.storage.get(ValueLayout.JAVA_BYTE, PAGE_SIZE));
    }

    @Test
    void writesThroughReadWriteMappingReachTheStorage() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);
        DmaBufMapping m = f.exp.mmap(fd, PAGE_SIZE, PAGE_SIZE, RW);

        assertFalse(m.segment().isReadOnly());
        m.segment().set(ValueLayout.JAVA_INT_UNALIGNED, 12, 0x01020304);

        assertEquals(0x01020304, ops.storage.get(ValueLayout.JAVA_INT_UNALIGNED, PAGE_SIZE + 12));
        ops.storage.set(ValueLayout.JAVA_BYTE, PAGE_SIZE + 1000, (byte) 77);
        assertEquals((byte) 77, m.segment().get(ValueLayout.JAVA_BYTE, 1000));
    }

    @Test
    void readOnlyMappingCannotBeWritten() {
        TestExporter ops = new TestExporter(SIZE);
        ops.storage.set(ValueLayout.JAVA_BYTE, 0, (byte) 5);
        int fd = exportFd(ops, SIZE);
        DmaBufMapping m = f.exp.mmap(fd, 0, SIZE, PROT_READ);

        MemorySegment seg = m.segment();
        assertTrue(seg.isReadOnly());
        assertEquals((byte) 5, seg.get(ValueLayout.JAVA_BYTE, 0));
        // the JDK's type for a write to a read-only segment (JDK 25: IllegalArgumentException)
        assertThrows(IllegalArgumentException.class, () -> seg.set(ValueLayout.JAVA_BYTE, 0, (byte) 6));
        assertThrows(IllegalArgumentException.class, () -> seg.fill((byte) 6));
        assertEquals((byte) 5, ops.storage.get(ValueLayout.JAVA_BYTE, 0));
    }

    @Test
    void mmapPastTheEndIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);

        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, SIZE + 1, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, PAGE_SIZE, SIZE, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, SIZE, PAGE_SIZE, PROT_READ));

        assertEquals(0, ops.count("mmap"));
        f.exp.mmap(fd, SIZE - PAGE_SIZE, PAGE_SIZE, PROT_READ); // the last page itself is fine
    }

    @Test
    void trailingPartialPageIsNeverMappable() {
        long size = PAGE_SIZE + 100;
        TestExporter ops = new TestExporter(size);
        int fd = exportFd(ops, size);

        DmaBufMapping m = f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ);
        assertEquals(PAGE_SIZE, m.length());

        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, 2 * PAGE_SIZE, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, size, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, PAGE_SIZE, 100, PROT_READ));
        assertEquals(1, ops.count("mmap"));
    }

    @Test
    void unalignedOffsetIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 100, PAGE_SIZE, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, PAGE_SIZE + 1, PAGE_SIZE, PROT_READ));
        assertEquals(0, ops.count("mmap"));
    }

    @Test
    void zeroOrNegativeLengthIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, 0, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, -1, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, Long.MIN_VALUE, PROT_READ));
        assertEquals(0, ops.count("mmap"));
    }

    @Test
    void offsetWrappingAroundIsEoverflow() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);
        assertErrno(Errno.EOVERFLOW, () -> f.exp.mmap(fd, -PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ));
        assertEquals(0, ops.count("mmap"));
    }

    @Test
    void vmAreaPageOffsetWrappingAroundIsEoverflow() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.export(ops, SIZE);
        assertErrno(Errno.EOVERFLOW, () -> f.exp.mmap(buf, new VmArea(-1L, PAGE_SIZE, PROT_READ)));
        assertErrno(Errno.EOVERFLOW, () -> f.exp.mmap(buf, new VmArea(-2L, 2 * PAGE_SIZE, PROT_READ)));
        assertEquals(0, ops.count("mmap"));
    }

    @Test
    void vmAreaMapsTheRequestedPages() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.export(ops, SIZE);

        DmaBufMapping m = f.exp.mmap(buf, new VmArea(1, 2 * PAGE_SIZE, RW));

        assertEquals(PAGE_SIZE, m.offset());
        assertEquals(2 * PAGE_SIZE, m.segment().byteSize());
        m.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
        assertEquals((byte) 9, ops.storage.get(ValueLayout.JAVA_BYTE, PAGE_SIZE));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(buf, new VmArea(3, 2 * PAGE_SIZE, PROT_READ)));
    }

    @Test
    void vmAreaLengthNotAPageMultipleIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.export(ops, SIZE);
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(buf, new VmArea(0, 100, PROT_READ)));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(buf, new VmArea(0, PAGE_SIZE + 1, PROT_READ)));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(buf, new VmArea(0, 0, PROT_READ)));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(buf, new VmArea(0, -PAGE_SIZE, PROT_READ)));
        assertEquals(0, ops.count("mmap"));
    }

    @Test
    void writableMappingOfReadOnlyFdIsEacces() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE, DmaBufUapi.O_RDWR, DmaBufUapi.O_RDONLY);

        assertErrno(Errno.EACCES, () -> f.exp.mmap(fd, 0, PAGE_SIZE, RW));

        assertEquals(0, ops.count("mmap"));
        DmaBufMapping m = f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ); // reading is allowed
        assertTrue(m.segment().isReadOnly());
    }

    @Test
    void anyMappingOfWriteOnlyFdIsEacces() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE, DmaBufUapi.O_RDWR, DmaBufUapi.O_WRONLY);

        assertErrno(Errno.EACCES, () -> f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ));
        assertErrno(Errno.EACCES, () -> f.exp.mmap(fd, 0, PAGE_SIZE, RW));

        assertEquals(0, ops.count("mmap"));
    }

    @Test
    void protOtherThanReadOrReadWriteIsEinval() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);
        DmaBuf buf = f.exp.get(fd);

        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, PAGE_SIZE, 0));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, PAGE_SIZE, 4));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, PAGE_SIZE, PROT_WRITE));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, PAGE_SIZE, RW | 4));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(buf, new VmArea(0, PAGE_SIZE, 0)));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(buf, new VmArea(0, PAGE_SIZE, PROT_WRITE)));

        assertEquals(0, ops.count("mmap"));
    }

    @Test
    void exporterWithoutMmapIsEinval() {
        TestExporter.Minimal minimal = new TestExporter.Minimal();
        DmaBuf buf = f.exp.export(ExportInfo.builder(minimal, SIZE).build());
        f.exp.get(buf);
        int fd = f.exp.fd(buf, DmaBufUapi.O_RDWR);
        long before = count(fd);

        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(buf, new VmArea(0, PAGE_SIZE, PROT_READ)));

        assertEquals(before, count(fd));
    }

    @Test
    void mappingHoldsAReferenceUntilClosed() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exportShared(ops, SIZE); // exporter and importer hold one reference each
        int fd = f.exp.fd(buf, DmaBufUapi.O_RDWR); // the exporter's reference moves into the fd
        assertEquals(2, count(fd));

        DmaBufMapping m = f.exp.mmap(fd, 0, SIZE, RW);
        assertEquals(3, count(fd));

        f.exp.close(fd);
        f.imp.put(buf);

        assertEquals(0, ops.count("release"), "the mapping still holds the buffer");
        assertEquals(1, f.core.buffers().all().size());
        assertEquals(1, f.core.buffers().all().iterator().next().refCount());
        m.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // still usable
        assertEquals((byte) 1, ops.storage.get(ValueLayout.JAVA_BYTE, 0));

        m.close();

        assertFalse(m.isMapped());
        assertEquals(1, ops.count("release"));
        assertTrue(f.core.buffers().all().isEmpty());
    }

    @Test
    void closingAMappingTwiceIsHarmless() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.export(ops, SIZE);
        DmaBufMapping m = f.exp.mmap(buf, new VmArea(0, PAGE_SIZE, PROT_READ));
        DmaBufMapping other = f.exp.mmap(buf, new VmArea(0, PAGE_SIZE, PROT_READ));
        f.exp.put(buf);

        m.close();
        m.close();

        assertEquals(0, ops.count("release"), "a second close must not drop another mapping's reference");
        assertEquals(1, f.core.buffers().all().iterator().next().refCount());
        other.close();
        assertEquals(1, ops.count("release"));
        m.close();
        other.close();
        assertEquals(1, ops.count("release"));
    }

    @Test
    void staleMappingSegmentThrowsAfterRelease() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);
        DmaBufMapping m = f.exp.mmap(fd, 0, SIZE, RW);
        MemorySegment seg = m.segment();
        f.exp.close(fd);
        m.close();
        assertEquals(1, ops.count("release"));

        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> seg.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
    }

    @Test
    void writableVmAreaOnReadOnlyExportIsEacces() {
        TestExporter ops = new TestExporter(SIZE);
        DmaBuf buf = f.exp.export(ExportInfo.builder(ops, SIZE).flags(DmaBufUapi.O_RDONLY).build());

        assertErrno(Errno.EACCES, () -> f.exp.mmap(buf, new VmArea(0, PAGE_SIZE, RW)));

        assertEquals(0, ops.count("mmap"));
        DmaBufMapping ro = f.exp.mmap(buf, new VmArea(0, PAGE_SIZE, PROT_READ));
        assertTrue(ro.segment().isReadOnly());
    }

    @Test
    void failedMmapsLeaveTheReferenceCountUnchanged() {
        TestExporter ops = new TestExporter(SIZE);
        int fd = exportFd(ops, SIZE);
        int dupFd = f.exp.dup(fd);
        DmaBuf buf = f.exp.get(fd);
        long before = count(fd);
        assertEquals(3, before);

        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 100, PAGE_SIZE, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, 0, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, SIZE + PAGE_SIZE, PROT_READ));
        assertErrno(Errno.EOVERFLOW, () -> f.exp.mmap(fd, -PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ));
        assertErrno(Errno.EINVAL, () -> f.exp.mmap(fd, 0, PAGE_SIZE, 0));
        assertErrno(Errno.EOVERFLOW, () -> f.exp.mmap(buf, new VmArea(-1L, PAGE_SIZE, PROT_READ)));
        assertErrno(Errno.EBADF, () -> f.exp.mmap(99, 0, PAGE_SIZE, PROT_READ));
        assertEquals(before, count(fd));
        assertEquals(before, count(dupFd));

        // failures after the core took the mapping's reference: the exporter's mmap misbehaves
        ops.mmapOverride = vma -> ops.storage.asSlice(0, 100); // too short
        assertErrno(Errno.EIO, () -> f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ));
        ops.mmapOverride = vma -> MemorySegment.ofArray(new byte[PAGE_SIZE]); // not native
        assertErrno(Errno.EIO, () -> f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ));
        ops.mmapOverride = vma -> {
            throw new IllegalStateException("driver bug in mmap");
        };
        assertErrno(Errno.EIO, () -> f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ));
        assertErrno(Errno.EIO, () -> f.exp.mmap(buf, new VmArea(0, PAGE_SIZE, PROT_READ)));
        ops.mmapOverride = vma -> {
            throw new dmabuf.api.DmaBufException(Errno.ENODEV, "userptr storage gone");
        };
        assertErrno(Errno.ENODEV, () -> f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ));

        assertEquals(5, ops.count("mmap"));
        assertEquals(before, count(fd));
        assertEquals(0, f.core.snapshots().runtimeDTO().clients[0].mmaps);

        ops.mmapOverride = null;
        DmaBufMapping m = f.exp.mmap(fd, 0, PAGE_SIZE, PROT_READ);
        assertEquals(before + 1, count(fd));
        m.close();
        assertEquals(before, count(fd));
    }
}
