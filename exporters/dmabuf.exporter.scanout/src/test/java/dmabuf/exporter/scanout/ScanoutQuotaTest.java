package dmabuf.exporter.scanout;

import static dmabuf.exporter.scanout.ScanoutFixture.MB;
import static dmabuf.exporter.scanout.ScanoutFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;
import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PoolSpec;
import dmabuf.exporter.scanout.api.DumbBuffer;
import dmabuf.memory.MemoryConfig;
import dmabuf.testing.LeakCheck;
import dmabuf.testing.NoLeaks;

/**
 * Quotas with a device driver (issue 8): the scanout bundle's dumb buffers are charged to it, so once it reaches its
 * quota the next create is ENOMEM naming the quota and how to raise it, while other bundles allocate as before and
 * the buffers it already has keep working; freeing one makes room again.
 */
class ScanoutQuotaTest {
    /** 256 x 256 at 32 bpp: 256 KiB, so four fill a 1 MB quota exactly. */
    private static final int SIDE = 256;

    private final ScanoutFixture f = new ScanoutFixture(ScanoutSettings.DEFAULTS,
            MemoryConfig.DEFAULTS.withQuota("dmabuf.exporter.scanout", MB));

    @RegisterExtension
    final NoLeaks noLeaks = NoLeaks.of(() -> f.core.snapshots().runtimeDTO());

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void overItsQuotaTheDriverGetsEnomemNamingTheQuotaAndOthersAreUnaffected() {
        List<DumbBuffer> dumbs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            dumbs.add(f.device.createDumb(SIDE, SIDE, 32, 0));
        }
        DmaBufException e = assertErrno(Errno.ENOMEM, () -> f.device.createDumb(SIDE, SIDE, 32, 0));
        String m = e.getMessage();
        assertTrue(m.contains("bundle dmabuf.exporter.scanout [10]") && m.contains("quota is 1 MiB"), m);
        assertTrue(m.contains("'quotas' entry 'dmabuf.exporter.scanout=<MB>'"), m);

        // another bundle is not affected: it allocates well past the scanout's quota from its own pool
        PagePool displayPool = f.engine.openBundle(ScanoutFixture.DISPLAY_BUNDLE, "display.app")
                .createPool(PoolSpec.scattered("display-scratch", 8 * MB));
        try (PageAllocation big = displayPool.allocate(4 * MB)) {
            assertEquals(4 * MB, big.size());
        }

        // what the driver already has keeps working: export, import, map, all while it is at its quota
        DmaBuf frame = f.device.exportDumb(dumbs.get(0).handle(), 0);
        DmaBuf held = f.imp.get(frame);
        DmaBufAttachment att = f.imp.attach(held, Device.of("crtc0"));
        SgTable table = f.imp.mapAttachment(att, DmaDataDirection.TO_DEVICE);
        assertEquals(dumbs.get(0).size(), table.totalLength());
        f.imp.unmapAttachment(att, table, DmaDataDirection.TO_DEVICE);
        f.imp.detach(att);
        f.imp.put(held);

        // freeing one dumb buffer gives its bytes back to the quota
        f.device.destroyDumb(dumbs.remove(3).handle());
        dumbs.add(f.device.createDumb(SIDE, SIDE, 32, 0));
        assertErrno(Errno.ENOMEM, () -> f.device.createDumb(SIDE, SIDE, 32, 0));

        for (DumbBuffer d : dumbs) {
            f.device.destroyDumb(d.handle());
        }
        LeakCheck.of(() -> f.core.snapshots().runtimeDTO()).assertNothingAllocated();
        assertTrue(f.poolWhole(), "every page is back in the device's pool");
    }
}
