package dmabuf.exporter.gpu;

import static dmabuf.exporter.gpu.GpuFixture.PAGE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.SgTable;
import dmabuf.exporter.gpu.api.CacheDomain;
import dmabuf.exporter.gpu.api.Gpu;
import dmabuf.exporter.gpu.api.ObjectInfo;

/** Cache domains: a begin after GPU writes invalidates, an end after CPU writes flushes; both counted. */
class CacheDomainTest {

    @Test
    void aReadAfterGpuWritesInvalidatesOnceAndFlushesNothing() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(2 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            f.gpu.gpuFill(h, 0, 2 * PAGE, (byte) 0x11);
            assertEquals(CacheDomain.GPU, f.gpu.info(h).domain());

            f.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            ObjectInfo in = f.gpu.info(h);
            assertEquals(CacheDomain.CPU, in.domain());
            assertEquals(1, in.invalidateCount());
            assertEquals(0, in.flushCount());
            f.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            ObjectInfo out = f.gpu.info(h);
            assertEquals(CacheDomain.GPU, out.domain(), "back to the GPU after the last CPU access");
            assertEquals(0, out.flushCount(), "the CPU only read");

            // no GPU write since: a second read needs no invalidate
            f.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            assertEquals(1, f.gpu.info(h).invalidateCount());
            f.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        }
    }

    @Test
    void aWriteFlushesAtTheEnd() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.gpuRegistry.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE);
            assertEquals(0, f.gpu.info(h).invalidateCount(), "the GPU never wrote");
            MemorySegment page = f.gpuRegistry.kmap(buf, 0);
            page.set(ValueLayout.JAVA_INT, 0, 42);
            f.gpuRegistry.kunmap(buf, 0, page);
            assertEquals(0, f.gpu.info(h).flushCount(), "nothing flushed before the end");
            f.gpuRegistry.endCpuAccess(buf, DmaDataDirection.TO_DEVICE);
            assertEquals(1, f.gpu.info(h).flushCount());

            f.gpuRegistry.beginCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
            f.gpuRegistry.endCpuAccess(buf, DmaDataDirection.BIDIRECTIONAL);
            assertEquals(2, f.gpu.info(h).flushCount());
            assertEquals(0, f.gpu.info(h).invalidateCount());
        }
    }

    @Test
    void aDeviceMappedForWritingCountsAsGpuWrites_aDeviceReadingDoesNot() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            DmaBufAttachment a = f.imp.attach(buf, Device.of("camera").withCoherent(false));

            SgTable reads = f.imp.mapAttachment(a, DmaDataDirection.TO_DEVICE);
            f.imp.unmapAttachment(a, reads, DmaDataDirection.TO_DEVICE);
            assertEquals(CacheDomain.GPU, f.gpu.info(h).domain());
            f.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            f.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            assertEquals(0, f.gpu.info(h).invalidateCount(), "the device only read");

            SgTable writes = f.imp.mapAttachment(a, DmaDataDirection.FROM_DEVICE);
            f.dmaWrite(writes, off -> off);
            f.imp.unmapAttachment(a, writes, DmaDataDirection.FROM_DEVICE);
            f.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
            assertEquals(1, f.gpu.info(h).invalidateCount());
            f.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE);
        }
    }

    @Test
    void theSyncIoctlDrivesTheSameCounters() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            int fd = f.imp.fd(buf, DmaBufUapi.O_RDWR);
            f.gpu.gpuFill(h, 0, PAGE, (byte) 3);
            f.imp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_RW);
            f.imp.sync(fd, DmaBufUapi.DMA_BUF_SYNC_RW | DmaBufUapi.DMA_BUF_SYNC_END);
            ObjectInfo info = f.gpu.info(h);
            assertEquals(1, info.invalidateCount());
            assertEquals(1, info.flushCount());
        }
    }

    @Test
    void overlappingAccessesKeepTheCpuDomainUntilTheLastEnds() {
        try (GpuFixture f = new GpuFixture()) {
            int h = f.gpu.createObject(2 * PAGE);
            DmaBuf buf = f.gpu.primeExport(h, Gpu.DRM_RDWR);
            f.imp.get(buf);
            f.imp.beginCpuAccess(buf, DmaDataDirection.FROM_DEVICE, 0, PAGE);
            f.gpuRegistry.beginCpuAccess(buf, DmaDataDirection.TO_DEVICE, PAGE, PAGE);
            f.imp.endCpuAccess(buf, DmaDataDirection.FROM_DEVICE, 0, PAGE);
            assertEquals(CacheDomain.CPU, f.gpu.info(h).domain());
            f.gpuRegistry.endCpuAccess(buf, DmaDataDirection.TO_DEVICE, PAGE, PAGE);
            assertEquals(CacheDomain.GPU, f.gpu.info(h).domain());
            assertEquals(1, f.gpu.info(h).flushCount());
        }
    }
}
