package dmabuf.core;

import static dmabuf.core.CoreFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dmabuf.testing.NoLeaks;
import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.FdInfo;

/**
 * The fd interface: llseek, SET_NAME, the raw ioctl entry point, fdinfo and the bufinfo listing.
 */
class FdInterfaceTest {

    private static final long SIZE = 5000; // not page aligned: llseek and fdinfo report the exact size

    private final CoreFixture fixture = new CoreFixture();
    /** Each test must end without a leak report, dropped buffers included (the fixture tracks every buffer). */
    @RegisterExtension
    final NoLeaks noLeaks = NoLeaks.of(() -> fixture.core.snapshots().runtimeDTO());
    private final TestExporter ops = new TestExporter(SIZE);
    private final DmaBuf buf = fixture.export(ops, SIZE);
    private final int fd = fixture.exp.fd(buf, DmaBufUapi.O_RDWR);

    // ---- llseek ---------------------------------------------------------------------------------------------

    @Test
    void llseekToEndReturnsSizeAndToStartReturnsZero() {
        assertEquals(SIZE, fixture.exp.llseek(fd, 0, DmaBufUapi.SEEK_END));
        assertEquals(0, fixture.exp.llseek(fd, 0, DmaBufUapi.SEEK_SET));
        // the position does not stick: asking again gives the same answers
        assertEquals(SIZE, fixture.exp.llseek(fd, 0, DmaBufUapi.SEEK_END));
    }

    @Test
    void llseekAnythingElseIsEinval() {
        assertErrno(Errno.EINVAL, () -> fixture.exp.llseek(fd, 0, DmaBufUapi.SEEK_CUR));
        assertErrno(Errno.EINVAL, () -> fixture.exp.llseek(fd, 1, DmaBufUapi.SEEK_END));
        assertErrno(Errno.EINVAL, () -> fixture.exp.llseek(fd, -1, DmaBufUapi.SEEK_SET));
        assertErrno(Errno.EINVAL, () -> fixture.exp.llseek(fd, 0, DmaBufUapi.SEEK_DATA));
        assertErrno(Errno.EINVAL, () -> fixture.exp.llseek(fd, 0, DmaBufUapi.SEEK_HOLE));
        assertErrno(Errno.EINVAL, () -> fixture.exp.llseek(fd, 0, 99));
    }

    @Test
    void llseekOnBadFdIsEbadf() {
        assertErrno(Errno.EBADF, () -> fixture.exp.llseek(fd + 1, 0, DmaBufUapi.SEEK_END));
        assertErrno(Errno.EBADF, () -> fixture.imp.llseek(fd, 0, DmaBufUapi.SEEK_END));
    }

    // ---- SET_NAME -------------------------------------------------------------------------------------------

    @Test
    void setNameTakes31AsciiBytes() {
        String name = "a".repeat(31);
        fixture.exp.setName(fd, name);
        assertEquals(name, fixture.exp.fdinfo(fd).name());
        assertEquals(name, buf.name().orElseThrow());
    }

    @Test
    void setNameOf32AsciiBytesIsEinvalAndKeepsTheOldName() {
        fixture.exp.setName(fd, "old");
        assertErrno(Errno.EINVAL, () -> fixture.exp.setName(fd, "a".repeat(32)));
        assertEquals("old", fixture.exp.fdinfo(fd).name());
    }

    @Test
    void setNameCountsUtf8BytesNotChars() {
        String twoByteChars = "\u00e9".repeat(16); // 16 chars, 32 bytes of UTF-8
        assertEquals(16, twoByteChars.length());
        assertEquals(32, twoByteChars.getBytes(StandardCharsets.UTF_8).length);
        assertErrno(Errno.EINVAL, () -> fixture.exp.setName(fd, twoByteChars));
        assertNull(fixture.exp.fdinfo(fd).name());
        assertTrue(buf.name().isEmpty());

        String fits = "\u00e9".repeat(15) + "a"; // 31 bytes
        fixture.exp.setName(fd, fits);
        assertEquals(fits, fixture.exp.fdinfo(fd).name());
    }

    @Test
    void setNameEndsAtTheFirstNul() {
        fixture.exp.setName(fd, "ab\0cd");
        assertEquals("ab", fixture.exp.fdinfo(fd).name());
        assertEquals("ab", buf.name().orElseThrow());
        // bytes after the NUL do not count against the length
        fixture.exp.setName(fd, "xy\0" + "z".repeat(100));
        assertEquals("xy", fixture.exp.fdinfo(fd).name());
    }

    @Test
    void setNameNullIsEfault() {
        fixture.exp.setName(fd, "kept");
        assertErrno(Errno.EFAULT, () -> fixture.exp.setName(fd, null));
        assertEquals("kept", fixture.exp.fdinfo(fd).name());
    }

    @Test
    void setNameOnBadFdIsEbadf() {
        assertErrno(Errno.EBADF, () -> fixture.exp.setName(fd + 1, "x"));
        assertErrno(Errno.EBADF, () -> fixture.imp.setName(fd, "x"));
        assertNull(fixture.exp.fdinfo(fd).name());
    }

    @Test
    void renameWhileAttachedIsAllowedAndShows() {
        fixture.imp.get(buf);
        DmaBufAttachment att = fixture.imp.attach(buf, Device.of("npu0"));
        fixture.exp.setName(fd, "first");
        fixture.exp.setName(fd, "second");
        assertTrue(att.isAttached());
        assertEquals("second", fixture.exp.fdinfo(fd).name());
        String line = bufinfoLineOf(fixture.exp.bufinfo(), buf);
        assertEquals("second", fields(line)[6]);
        assertFalse(fixture.exp.bufinfo().contains("first"));
    }

    // ---- ioctl ----------------------------------------------------------------------------------------------

    @Test
    void ioctlSyncWithLongFlagsBracketsCpuAccess() {
        assertEquals(0, fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_SYNC, DmaBufUapi.DMA_BUF_SYNC_READ));
        assertEquals(1, ops.count("begin"));
        assertEquals(List.of("begin:FROM_DEVICE"), ops.directions);
        assertEquals(0, fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_SYNC,
                DmaBufUapi.DMA_BUF_SYNC_READ | DmaBufUapi.DMA_BUF_SYNC_END));
        assertEquals(1, ops.count("end"));
        assertEquals(List.of("begin:FROM_DEVICE", "end:FROM_DEVICE"), ops.directions);
    }

    @Test
    void ioctlSyncWithIntegerArgIsEfault() {
        assertErrno(Errno.EFAULT, () -> fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_SYNC,
                Integer.valueOf((int) DmaBufUapi.DMA_BUF_SYNC_READ)));
        assertErrno(Errno.EFAULT, () -> fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_SYNC, null));
        assertErrno(Errno.EFAULT, () -> fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_SYNC, "1"));
        assertEquals(0, ops.count("begin"));
    }

    @Test
    void ioctlSetNameAAndBTakeAString() {
        assertEquals(0, fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_SET_NAME_A, "name-a"));
        assertEquals("name-a", fixture.exp.fdinfo(fd).name());
        assertEquals(0, fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_SET_NAME_B, "name-b"));
        assertEquals("name-b", fixture.exp.fdinfo(fd).name());
        assertErrno(Errno.EFAULT, () -> fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_SET_NAME_B, 42L));
        assertErrno(Errno.EFAULT, () -> fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_SET_NAME_A, null));
        assertErrno(Errno.EINVAL, () -> fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_SET_NAME_A, "n".repeat(32)));
        assertEquals("name-b", fixture.exp.fdinfo(fd).name());
    }

    @Test
    void ioctlSyncFilesNeedTheirArgumentAndUnknownRequestsAreEnotty() {
        // the sync-file ioctls themselves are tested in dmabuf.core.sync.PollAndSyncFileTest
        assertErrno(Errno.EFAULT, () -> fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, 1L));
        assertErrno(Errno.EFAULT, () -> fixture.exp.ioctl(fd, DmaBufUapi.DMA_BUF_IOCTL_IMPORT_SYNC_FILE, 1L));
        assertErrno(Errno.ENOTTY, () -> fixture.exp.ioctl(fd, 0x1234, null));
        assertEquals(0, ops.count("begin"));
        assertEquals(0, ops.count("end"));
    }

    @Test
    void ioctlOnBadFdIsEbadfBeforeAnythingElse() {
        int bad = fd + 7;
        assertErrno(Errno.EBADF, () -> fixture.exp.ioctl(bad, 0x1234, null));
        assertErrno(Errno.EBADF, () -> fixture.exp.ioctl(bad, DmaBufUapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE, 1L));
        assertErrno(Errno.EBADF, () -> fixture.exp.ioctl(bad, DmaBufUapi.DMA_BUF_IOCTL_SYNC, 1));
        assertErrno(Errno.EBADF, () -> fixture.exp.ioctl(bad, DmaBufUapi.DMA_BUF_IOCTL_SYNC, 1L));
        assertErrno(Errno.EBADF, () -> fixture.exp.ioctl(bad, DmaBufUapi.DMA_BUF_SET_NAME_B, "x"));
        assertErrno(Errno.EBADF, () -> fixture.exp.ioctl(-1, 0x1234, null));
        // another bundle's fd number is a bad fd too
        assertErrno(Errno.EBADF, () -> fixture.imp.ioctl(fd, 0x1234, null));
        assertEquals(0, ops.count("begin"));
    }

    // ---- fdinfo ---------------------------------------------------------------------------------------------

    @Test
    void fdinfoFields() {
        DmaBuf b = fixture.exp.export(ExportInfo.builder(new TestExporter(12345), 12345)
                .flags(DmaBufUapi.O_RDONLY).build());
        int rofd = fixture.exp.fd(b, DmaBufUapi.O_RDONLY | DmaBufUapi.O_CLOEXEC);
        FdInfo info = fixture.exp.fdinfo(rofd);
        assertEquals(12345, info.size());
        assertEquals(1, info.count());
        assertEquals("exporter.bundle", info.exporterName());
        assertNull(info.name());
        assertEquals(DmaBufUapi.O_RDONLY | DmaBufUapi.O_CLOEXEC, info.flags());
        assertEquals(b.id(), info.inode());

        fixture.imp.get(b);
        assertEquals(2, fixture.exp.fdinfo(rofd).count());
        fixture.imp.put(b);

        FdInfo first = fixture.exp.fdinfo(fd);
        assertEquals(SIZE, first.size());
        assertEquals(buf.id(), first.inode());
        assertEquals(DmaBufUapi.O_RDWR, first.flags());
    }

    @Test
    void fdinfoFormatHasKernelLinesAndNoNameLineWhenUnset() {
        String text = fixture.exp.fdinfo(fd).format();
        List<String> lines = Arrays.asList(text.split("\n"));
        assertTrue(lines.contains("size:\t" + SIZE), text);
        assertTrue(lines.contains("count:\t1"), text);
        assertTrue(lines.contains("exp_name:\texporter.bundle"), text);
        assertTrue(lines.contains("ino:\t" + buf.id()), text);
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("name:")), () -> "no name line when unset: " + text);

        fixture.exp.setName(fd, "frame0");
        String named = fixture.exp.fdinfo(fd).format();
        assertTrue(Arrays.asList(named.split("\n")).contains("name:\tframe0"), named);
    }

    // ---- bufinfo --------------------------------------------------------------------------------------------

    private static String[] fields(String line) {
        return line.split("\t");
    }

    /** The buffer's line in a bufinfo listing (matched by its ino column); fails if absent. */
    private static String bufinfoLineOf(String bufinfo, DmaBuf b) {
        for (String line : bufinfo.split("\n")) {
            String[] f = fields(line);
            if (f.length >= 7 && f[5].matches("\\d+") && Long.parseLong(f[5]) == b.id()) {
                return line;
            }
        }
        throw new AssertionError("buffer " + b.id() + " is not in bufinfo:\n" + bufinfo);
    }

    @Test
    void bufinfoListsEachLiveBufferWithItsDevicesAndTotals() {
        fixture.registerExporter(100, "gpu0");
        TestExporter otherOps = new TestExporter(3 * 4096);
        DmaBuf other = fixture.exp.export(ExportInfo.builder(otherOps, 3 * 4096).exporter("gpu0")
                .name("scanout").build());
        fixture.exp.setName(fd, "frame");
        fixture.imp.get(buf);
        DmaBufAttachment a1 = fixture.imp.attach(buf, Device.of("display-a"));
        DmaBufAttachment a2 = fixture.imp.attach(buf, Device.of("codec-b"));
        assertNotNull(a1);
        assertNotNull(a2);

        String text = fixture.exp.bufinfo();

        String[] first = fields(bufinfoLineOf(text, buf));
        assertEquals("00005000", first[0]);
        assertEquals("exporter.bundle", first[4]);
        assertEquals(buf.id(), Long.parseLong(first[5]));
        assertEquals("frame", first[6]);

        String[] second = fields(bufinfoLineOf(text, other));
        assertEquals("00012288", second[0]);
        assertEquals("gpu0", second[4]);
        assertEquals(other.id(), Long.parseLong(second[5]));
        assertEquals("scanout", second[6]);

        // attached devices follow the buffer's line, and only that buffer's
        List<String> lines = Arrays.asList(text.split("\n"));
        int bufLine = lines.indexOf(bufinfoLineOf(text, buf));
        int otherLine = lines.indexOf(bufinfoLineOf(text, other));
        List<String> devicesOfBuf = devicesAfter(lines, bufLine);
        List<String> devicesOfOther = devicesAfter(lines, otherLine);
        assertEquals(List.of("display-a", "codec-b"), devicesOfBuf);
        assertEquals(List.of(), devicesOfOther);

        assertTrue(lines.contains("Total 2 objects, " + (SIZE + 3 * 4096) + " bytes"), text);

        // released buffers leave the listing and the totals
        fixture.exp.put(other);
        assertEquals(1, otherOps.count("release"));
        String after = fixture.imp.bufinfo();
        assertTrue(Arrays.asList(after.split("\n")).contains("Total 1 objects, " + SIZE + " bytes"), after);
        assertFalse(after.contains("scanout"), after);
        bufinfoLineOf(after, buf);
    }

    /** The device names listed under "Attached Devices:" below the buffer line at {@code index}. */
    private static List<String> devicesAfter(List<String> lines, int index) {
        assertTrue(index >= 0);
        assertEquals("\tAttached Devices:", lines.get(index + 1));
        List<String> devices = new ArrayList<>();
        for (int i = index + 2; i < lines.size() && !lines.get(i).startsWith("Total "); i++) {
            devices.add(lines.get(i).strip());
        }
        return devices;
    }
}
