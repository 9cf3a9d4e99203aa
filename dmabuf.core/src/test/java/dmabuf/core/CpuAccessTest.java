package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;

/** CPU-access brackets, kmap / kmap_atomic and the SYNC ioctl. */
class CpuAccessTest {
    private static final int PAGE = DmaBufUapi.PAGE_SIZE;

    private CoreFixture fx;
    private ExecutorService pool;

    @BeforeEach
    void setUp() {
        fx = new CoreFixture();
        pool = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
    }

    private <T> T onOtherThread(java.util.concurrent.Callable<T> call) throws Exception {
        Future<T> f = pool.submit(call);
        return f.get(30, TimeUnit.SECONDS);
    }

    // ---- begin / end --------------------------------------------------------------------------------------------

    @Test
    void beginAndEndPassDirectionAndWholeBufferRangeToExporter() {
        TestExporter ops = new TestExporter(3 * PAGE);
        DmaBuf buf = fx.export(ops, 3 * PAGE);

        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);

        assertEquals(List.of("begin:FROM_DEVICE", "end:FROM_DEVICE", "begin:TO_DEVICE", "end:TO_DEVICE"),
                ops.directions);
        String whole = "0+" + 3 * PAGE;
        assertEquals(List.of("begin:" + whole, "end:" + whole, "begin:" + whole, "end:" + whole), ops.ranges);
        assertEquals(2, ops.count("begin"));
        assertEquals(2, ops.count("end"));
    }

    @Test
    void rangedBeginAndEndReachExporterWithThatRange() {
        TestExporter ops = new TestExporter(4 * PAGE);
        DmaBuf buf = fx.export(ops, 4 * PAGE);

        fx.exp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL, 4096, 8192);
        fx.exp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL, 4096, 8192);

        assertEquals(List.of("begin:4096+8192", "end:4096+8192"), ops.ranges);
        assertEquals(List.of("begin:BIDIRECTIONAL", "end:BIDIRECTIONAL"), ops.directions);
    }

    @Test
    void wholeBufferBracketEqualsExplicitZeroToSizeRange() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.export(ops, 2 * PAGE);

        fx.exp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE, 0, 2 * PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE, 0, 2 * PAGE);
        fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);

        assertEquals(2, ops.count("end"));
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE));
    }

    @Test
    void rangeOutsideBufferIsEinvalAndReachesNothing() {
        TestExporter ops = new TestExporter(2 * PAGE);
        long size = 2 * PAGE;
        DmaBuf buf = fx.export(ops, size);
        DmaDataDirection d = DmaDataDirection.FROM_DEVICE;

        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, -1, 10));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, 0, 0));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, 0, -5));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, 1, size));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, size, 1));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, 0, size + 1));
        // offset + length overflows a long: must not wrap into "fits"
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, 1, Long.MAX_VALUE));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, Long.MAX_VALUE, 1));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, Long.MAX_VALUE, Long.MAX_VALUE));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, PAGE, Long.MAX_VALUE - PAGE + 2));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, d, Long.MIN_VALUE, 1));

        assertEquals(0, ops.count("begin"));
        // nothing was recorded: no end matches, no kmap is allowed
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, d, 0, 0));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, 0));
        // the exact edge is fine
        fx.exp.beginCpuAccess(buf, d, size - 1, 1);
        fx.exp.endCpuAccess(buf, d, size - 1, 1);
        assertEquals(1, ops.count("begin"));
    }

    @Test
    void directionNoneOrNullIsEinval() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);

        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, DmaDataDirection.NONE));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, null));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, DmaDataDirection.NONE, 0, PAGE));
        assertErrno(Errno.EINVAL, () -> fx.exp.beginCpuAccess(buf, null, 0, PAGE));
        assertEquals(0, ops.count("begin"));

        fx.exp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.NONE));
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, null));
        assertEquals(0, ops.count("end"));
        fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);
        assertEquals(1, ops.count("end"));
    }

    @Test
    void endWithoutBeginIsEinval() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);

        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE, 0, PAGE));
        assertEquals(0, ops.count("end"));
    }

    @Test
    void endWithOtherDirectionIsEinvalAndBracketStaysOpen() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);

        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE));
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL));
        assertEquals(0, ops.count("end"));

        // still open: kmap works and the right end succeeds
        MemorySegment page = fx.exp.kmap(buf, 0);
        fx.exp.kunmap(buf, 0, page);
        fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        assertEquals(List.of("end:FROM_DEVICE"), ops.directions.stream().filter(s -> s.startsWith("end")).toList());
        // and now it is closed
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
    }

    @Test
    void endWithOtherRangeIsEinvalAndBracketStaysOpen() {
        TestExporter ops = new TestExporter(4 * PAGE);
        DmaBuf buf = fx.export(ops, 4 * PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE, PAGE, 2 * PAGE);

        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE));
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE, PAGE, PAGE));
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE, 0, 2 * PAGE));
        assertEquals(0, ops.count("end"));

        fx.exp.endCpuAccess(buf, DmaDataDirection.TO_DEVICE, PAGE, 2 * PAGE);
        assertEquals(List.of("begin:4096+8192", "end:4096+8192"), ops.ranges);
    }

    @Test
    void bracketsArePerBundle() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.exportShared(ops, PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);

        // the importer cannot end the exporter's bracket, nor kmap inside it
        assertErrno(Errno.EINVAL, () -> fx.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        assertErrno(Errno.EINVAL, () -> fx.imp.kmap(buf, 0));
        DmaBufRegistry third = fx.bundle(30, "third.bundle");
        assertErrno(Errno.EINVAL, () -> third.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        assertEquals(0, ops.count("end"));

        // the owner of the bracket still can
        fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        assertEquals(1, ops.count("end"));
    }

    @Test
    void nestedBracketsWork() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);

        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        // one still open
        MemorySegment page = fx.exp.kmap(buf, 0);
        fx.exp.kunmap(buf, 0, page);
        fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);

        assertEquals(2, ops.count("begin"));
        assertEquals(2, ops.count("end"));
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, 0));
    }

    @Test
    void exporterBeginRefusalPassesThroughAndRecordsNoBracket() {
        TestExporter ops = new TestExporter(PAGE) {
            @Override
            public void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length) {
                super.beginCpuAccess(dmaBuf, direction, offset, length);
                throw new DmaBufException(Errno.EAGAIN, "fence not signalled yet, try again");
            }
        };
        DmaBuf buf = fx.export(ops, PAGE);

        assertErrno(Errno.EAGAIN, () -> fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        assertEquals(1, ops.count("begin"));
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, 0));
        assertEquals(0, ops.count("end"));
        assertEquals(0, ops.count("kmap"));
    }

    // ---- kmap ---------------------------------------------------------------------------------------------------

    @Test
    void kmapOutsideBracketIsEinval() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.export(ops, 2 * PAGE);

        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, 0));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmapAtomic(buf, 0));
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, 1));
        assertEquals(0, ops.count("kmap"));
        assertEquals(0, ops.count("kmapAtomic"));
    }

    @Test
    void kmapPageOutsideBufferIsEinval() {
        TestExporter ops = new TestExporter(3 * PAGE);
        DmaBuf buf = fx.export(ops, 3 * PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);

        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, -1));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, buf.pageCount()));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, Long.MAX_VALUE));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, Long.MIN_VALUE));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmapAtomic(buf, -1));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmapAtomic(buf, buf.pageCount()));
        assertEquals(0, ops.count("kmap"));
        assertEquals(0, ops.count("kmapAtomic"));

        MemorySegment last = fx.exp.kmap(buf, buf.pageCount() - 1);
        assertEquals(PAGE, last.byteSize());
        fx.exp.kunmap(buf, buf.pageCount() - 1, last);
    }

    @Test
    void rangedBracketOnlyCoversItsPages() {
        TestExporter ops = new TestExporter(3 * PAGE);
        DmaBuf buf = fx.export(ops, 3 * PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE, PAGE, PAGE);

        MemorySegment p1 = fx.exp.kmap(buf, 1);
        assertEquals(PAGE, p1.byteSize());
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, 0));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, 2));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmapAtomic(buf, 2));
        assertEquals(1, ops.count("kmap"));
        fx.exp.kunmap(buf, 1, p1);
        fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE, PAGE, PAGE);
    }

    @Test
    void kmapViewIsPageSizedExceptShortLastPage() {
        long size = 2L * PAGE + 100;
        TestExporter ops = new TestExporter(size);
        DmaBuf buf = fx.export(ops, size);
        assertEquals(3, buf.pageCount());
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);

        MemorySegment p0 = fx.exp.kmap(buf, 0);
        MemorySegment p1 = fx.exp.kmap(buf, 1);
        MemorySegment p2 = fx.exp.kmap(buf, 2);
        assertEquals(PAGE, p0.byteSize());
        assertEquals(PAGE, p1.byteSize());
        assertEquals(100, p2.byteSize());
        // the view never reaches past the buffer even though the exporter returned a whole page
        org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
                () -> p2.get(ValueLayout.JAVA_BYTE, 100));
        MemorySegment a2 = fx.exp.kmapAtomic(buf, 2);
        assertEquals(100, a2.byteSize());
        fx.exp.kunmapAtomic(buf, 2, a2);
        fx.exp.kunmap(buf, 2, p2);
        fx.exp.kunmap(buf, 1, p1);
        fx.exp.kunmap(buf, 0, p0);
    }

    @Test
    void kmapIsZeroCopyViewOfExporterStorage() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.exportShared(ops, 2 * PAGE);
        fx.imp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);

        MemorySegment p1 = fx.imp.kmap(buf, 1);
        assertEquals(ops.storage.address() + PAGE, p1.address());
        p1.set(ValueLayout.JAVA_INT, 8, 0xCAFEBABE);
        assertEquals(0xCAFEBABE, ops.storage.get(ValueLayout.JAVA_INT, PAGE + 8));
        ops.storage.set(ValueLayout.JAVA_BYTE, PAGE + 3, (byte) 42);
        assertEquals(42, p1.get(ValueLayout.JAVA_BYTE, 3));

        MemorySegment a0 = fx.imp.kmapAtomic(buf, 0);
        a0.set(ValueLayout.JAVA_LONG, 0, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, ops.storage.get(ValueLayout.JAVA_LONG, 0));
        fx.imp.kunmapAtomic(buf, 0, a0);
        fx.imp.kunmap(buf, 1, p1);
        fx.imp.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
    }

    @Test
    void kunmapReachesExporterAndRejectsUnknownPagesAndSegments() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.export(ops, 2 * PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        MemorySegment p0 = fx.exp.kmap(buf, 0);
        assertEquals(1, ops.count("kmap"));

        // page 1 is not kmapped
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmap(buf, 1, p0));
        // wrong segment for page 0 (another page's address, a heap segment, null)
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmap(buf, 0, ops.storage.asSlice(PAGE, PAGE)));
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmap(buf, 0, MemorySegment.ofArray(new byte[PAGE])));
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmap(buf, 0, null));
        // an atomic unmap of a plain kmap is not the same thing
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmapAtomic(buf, 0, p0));
        // another bundle cannot kunmap it
        fx.imp.get(buf);
        assertErrno(Errno.EINVAL, () -> fx.imp.kunmap(buf, 0, p0));
        assertEquals(0, ops.count("kunmap"));
        assertEquals(0, ops.count("kunmapAtomic"));

        fx.exp.kunmap(buf, 0, p0);
        assertEquals(1, ops.count("kunmap"));
        // a second kunmap of the same page is not kmapped any more
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmap(buf, 0, p0));
        assertEquals(1, ops.count("kunmap"));
    }

    /** An exporter whose pages are the storage of an earlier buffer: a pool recycling memory after release. */
    private static TestExporter recycling(TestExporter earlier, long size) {
        return new TestExporter(size) {
            @Override
            public MemorySegment kmap(DmaBuf dmaBuf, long pageIndex) {
                called("kmap");
                return earlier.storage.asSlice(pageIndex * PAGE, PAGE);
            }

            @Override
            public MemorySegment kmapAtomic(DmaBuf dmaBuf, long pageIndex) {
                called("kmapAtomic");
                return earlier.storage.asSlice(pageIndex * PAGE, PAGE);
            }
        };
    }

    @Test
    void kunmapWithStaleViewOfRecycledStorageIsEinval() {
        TestExporter opsA = new TestExporter(PAGE);
        DmaBuf a = fx.export(opsA, PAGE);
        fx.exp.beginCpuAccess(a, DmaDataDirection.FROM_DEVICE);
        MemorySegment stale = fx.exp.kmap(a, 0);
        fx.exp.kunmap(a, 0, stale);
        fx.exp.endCpuAccess(a, DmaDataDirection.FROM_DEVICE);
        fx.exp.put(a); // released: its storage goes back to the pool

        TestExporter opsB = recycling(opsA, PAGE);
        DmaBuf b = fx.export(opsB, PAGE);
        fx.exp.beginCpuAccess(b, DmaDataDirection.FROM_DEVICE);
        MemorySegment fresh = fx.exp.kmap(b, 0);
        assertEquals(stale.address(), fresh.address()); // same memory, same size: only the scope differs

        // the stale view of A is not what kmap of B returned
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmap(b, 0, stale));
        assertEquals(0, opsB.count("kunmap"));
        // B's own view still undoes the kmap
        fx.exp.kunmap(b, 0, fresh);
        assertEquals(1, opsB.count("kunmap"));
    }

    @Test
    void kunmapAtomicWithStaleViewOfRecycledStorageIsEinval() {
        TestExporter opsA = new TestExporter(PAGE);
        DmaBuf a = fx.export(opsA, PAGE);
        fx.exp.beginCpuAccess(a, DmaDataDirection.FROM_DEVICE);
        MemorySegment stale = fx.exp.kmapAtomic(a, 0);
        fx.exp.kunmapAtomic(a, 0, stale);
        fx.exp.endCpuAccess(a, DmaDataDirection.FROM_DEVICE);
        fx.exp.put(a);

        TestExporter opsB = recycling(opsA, PAGE);
        DmaBuf b = fx.export(opsB, PAGE);
        fx.exp.beginCpuAccess(b, DmaDataDirection.FROM_DEVICE);
        MemorySegment fresh = fx.exp.kmapAtomic(b, 0);
        assertEquals(stale.address(), fresh.address());

        assertErrno(Errno.EINVAL, () -> fx.exp.kunmapAtomic(b, 0, stale));
        assertEquals(0, opsB.count("kunmapAtomic"));
        fx.exp.kunmapAtomic(b, 0, fresh);
        assertEquals(1, opsB.count("kunmapAtomic"));
    }

    @Test
    void exporterWithoutKmapIsEinvalInsideBracket() {
        TestExporter.Minimal ops = new TestExporter.Minimal();
        DmaBuf buf = fx.exp.export(ExportInfo.builder(ops, 2 * PAGE).build());
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);

        assertErrno(Errno.EINVAL, () -> fx.exp.kmap(buf, 0));
        assertErrno(Errno.EINVAL, () -> fx.exp.kmapAtomic(buf, 1));
        // the bracket itself worked (no exporter hook needed) and still closes
        fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        assertErrno(Errno.EINVAL, () -> fx.exp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE));
    }

    // ---- kmap_atomic --------------------------------------------------------------------------------------------

    @Test
    void atMostTwoAtomicKmapsPerThread() throws Exception {
        TestExporter ops = new TestExporter(4 * PAGE);
        DmaBuf buf = fx.export(ops, 4 * PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);

        MemorySegment a0 = fx.exp.kmapAtomic(buf, 0);
        MemorySegment a1 = fx.exp.kmapAtomic(buf, 1);
        assertErrno(Errno.EBUSY, () -> fx.exp.kmapAtomic(buf, 2));
        assertEquals(2, ops.count("kmapAtomic"));
        // plain kmap is not limited
        MemorySegment p3 = fx.exp.kmap(buf, 3);

        // another thread has its own two slots
        List<Long> otherAddresses = onOtherThread(() -> {
            MemorySegment b2 = fx.exp.kmapAtomic(buf, 2);
            MemorySegment b3 = fx.exp.kmapAtomic(buf, 3);
            DmaBufException third = assertErrno(Errno.EBUSY, () -> fx.exp.kmapAtomic(buf, 0));
            assertTrue(third.getMessage().contains("atomic"), third.getMessage());
            long x = b2.address();
            long y = b3.address();
            fx.exp.kunmapAtomic(buf, 3, b3);
            fx.exp.kunmapAtomic(buf, 2, b2);
            return List.of(x, y);
        });
        assertEquals(List.of(ops.storage.address() + 2 * PAGE, ops.storage.address() + 3 * PAGE), otherAddresses);
        assertEquals(4, ops.count("kmapAtomic"));
        assertEquals(2, ops.count("kunmapAtomic"));

        // this thread is still full
        assertErrno(Errno.EBUSY, () -> fx.exp.kmapAtomic(buf, 3));
        fx.exp.kunmapAtomic(buf, 1, a1);
        MemorySegment again = fx.exp.kmapAtomic(buf, 2);
        fx.exp.kunmapAtomic(buf, 2, again);
        fx.exp.kunmapAtomic(buf, 0, a0);
        fx.exp.kunmap(buf, 3, p3);
        assertEquals(5, ops.count("kmapAtomic"));
        assertEquals(5, ops.count("kunmapAtomic"));
    }

    @Test
    void kunmapAtomicMustBeLifo() {
        TestExporter ops = new TestExporter(2 * PAGE);
        DmaBuf buf = fx.export(ops, 2 * PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        MemorySegment first = fx.exp.kmapAtomic(buf, 0);
        MemorySegment second = fx.exp.kmapAtomic(buf, 1);

        assertErrno(Errno.EINVAL, () -> fx.exp.kunmapAtomic(buf, 0, first));
        assertEquals(0, ops.count("kunmapAtomic"));
        // the right page with a wrong segment is refused too
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmapAtomic(buf, 1, first));
        assertEquals(0, ops.count("kunmapAtomic"));

        fx.exp.kunmapAtomic(buf, 1, second);
        fx.exp.kunmapAtomic(buf, 0, first);
        assertEquals(2, ops.count("kunmapAtomic"));
        // nothing left
        assertErrno(Errno.EINVAL, () -> fx.exp.kunmapAtomic(buf, 0, first));
        assertEquals(2, ops.count("kunmapAtomic"));
    }

    @Test
    void kunmapAtomicOnAnotherThreadIsEinval() throws Exception {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);
        fx.exp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        MemorySegment a0 = fx.exp.kmapAtomic(buf, 0);

        Errno seen = onOtherThread(() -> {
            try {
                fx.exp.kunmapAtomic(buf, 0, a0);
                return null;
            } catch (DmaBufException e) {
                return e.errno();
            }
        });
        assertEquals(Errno.EINVAL, seen);
        assertEquals(0, ops.count("kunmapAtomic"));

        // the mapping is intact on its own thread
        fx.exp.kunmapAtomic(buf, 0, a0);
        assertEquals(1, ops.count("kunmapAtomic"));
    }

    // ---- SYNC ---------------------------------------------------------------------------------------------------

    @Test
    void syncRejectsInvalidFlags() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);
        int fd = fx.exp.fd(buf, DmaBufUapi.O_RDWR);

        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, 0));
        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, -1L));
        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_END));
        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, 8));
        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, 0x10));
        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_READ | 8));
        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_RW | 0x100000000L));
        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, Long.MIN_VALUE | DmaBufUapi.DMA_BUF_SYNC_READ));
        assertEquals(0, ops.count("begin"));
        assertEquals(0, ops.count("end"));
    }

    @Test
    void syncMapsFlagsToDirections() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);
        int fd = fx.exp.fd(buf, DmaBufUapi.O_RDWR);

        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_READ);
        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_WRITE);
        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_RW);
        assertEquals(List.of("begin:FROM_DEVICE", "begin:TO_DEVICE", "begin:BIDIRECTIONAL"), ops.directions);
        assertEquals(List.of("begin:0+" + PAGE, "begin:0+" + PAGE, "begin:0+" + PAGE), ops.ranges);

        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_READ | DmaBufUapi.DMA_BUF_SYNC_END);
        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_RW | DmaBufUapi.DMA_BUF_SYNC_END);
        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_WRITE | DmaBufUapi.DMA_BUF_SYNC_END);
        assertEquals(List.of("end:FROM_DEVICE", "end:BIDIRECTIONAL", "end:TO_DEVICE"),
                ops.directions.subList(3, 6));
        assertEquals(3, ops.count("end"));
    }

    @Test
    void syncEndAfterReadEndsFromDevice() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);
        int fd = fx.exp.fd(buf, DmaBufUapi.O_RDWR);

        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_READ);
        // a SYNC bracket is a whole-buffer bracket of the bundle: kmap works inside it
        MemorySegment p = fx.exp.kmap(buf, 0);
        fx.exp.kunmap(buf, 0, p);
        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_READ | DmaBufUapi.DMA_BUF_SYNC_END);
        assertEquals(List.of("begin:FROM_DEVICE", "end:FROM_DEVICE"), ops.directions);
        assertEquals(List.of("begin:0+" + PAGE, "end:0+" + PAGE), ops.ranges);
    }

    @Test
    void syncEndWithoutBeginIsEinval() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);
        int fd = fx.exp.fd(buf, DmaBufUapi.O_RDWR);

        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_WRITE | DmaBufUapi.DMA_BUF_SYNC_END));
        // a READ begin is not ended by WRITE|END
        fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_READ);
        assertErrno(Errno.EINVAL, () -> fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_WRITE | DmaBufUapi.DMA_BUF_SYNC_END));
        assertEquals(0, ops.count("end"));
        // and the ioctl form behaves the same
        assertErrno(Errno.EINVAL, () -> fx.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_SYNC,
                DmaBufUapi.DMA_BUF_SYNC_WRITE | DmaBufUapi.DMA_BUF_SYNC_END));
        assertEquals(0L, fx.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_SYNC,
                DmaBufUapi.DMA_BUF_SYNC_READ | DmaBufUapi.DMA_BUF_SYNC_END));
        assertEquals(1, ops.count("end"));
    }

    @Test
    void syncOnBadFdIsEbadf() {
        TestExporter ops = new TestExporter(PAGE);
        DmaBuf buf = fx.export(ops, PAGE);
        int fd = fx.exp.fd(buf, DmaBufUapi.O_RDWR);

        assertErrno(Errno.EBADF, () -> fx.exp.sync(fd + 1, DmaBufUapi.DMA_BUF_SYNC_READ));
        assertErrno(Errno.EBADF, () -> fx.exp.sync(-1, DmaBufUapi.DMA_BUF_SYNC_READ));
        // EBADF wins over bad flags
        assertErrno(Errno.EBADF, () -> fx.exp.sync(fd + 1, 0));
        // fds are per bundle
        assertErrno(Errno.EBADF, () -> fx.imp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_READ));
        fx.exp.close(fd);
        assertErrno(Errno.EBADF, () -> fx.exp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_READ));
        assertEquals(0, ops.count("begin"));
    }
}
