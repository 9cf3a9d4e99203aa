package dmabuf.core.sync;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBuf;
import dmabuf.api.sync.AcquireContext;
import dmabuf.api.sync.DmaFence;
import dmabuf.api.sync.DmaResvUsage;
import dmabuf.core.CoreFixture;
import dmabuf.core.TestExporter;
import dmabuf.core.buffer.Buffer;

/**
 * The hot paths' check before an implicit wait ({@link FenceService#mustWait}): true exactly while a fence the usage
 * covers is unsignalled, so skipping the wait when it is false never skips a wait that was due.
 */
class MustWaitTest {
    private final CoreFixture fx = new CoreFixture();
    private final DmaBuf buf = fx.exportShared(new TestExporter(8192), 8192);
    private final Buffer b = fx.core.lifecycle().resolve(buf);

    private DmaFence publish(DmaResvUsage usage) {
        DmaFence f = fx.exp.fenceContext("gpu", "gfx").createFence();
        try (AcquireContext ac = fx.exp.acquireContext()) {
            ac.lock(buf.resv());
            buf.resv().reserveFences(1);
            buf.resv().addFence(f, usage);
        }
        return f;
    }

    @Test
    void onlyAnUnsignalledFenceOfTheUsageMakesACallerWait() {
        FenceService fences = fx.core.fences();
        assertFalse(fences.mustWait(b, DmaResvUsage.BOOKKEEP), "no fence at all");
        DmaFence read = publish(DmaResvUsage.READ);
        assertFalse(fences.mustWait(b, DmaResvUsage.WRITE), "a reader's fence does not hold up a CPU reader");
        assertTrue(fences.mustWait(b, DmaResvUsage.READ), "a CPU writer waits for readers");
        read.signal();
        assertFalse(fences.mustWait(b, DmaResvUsage.READ), "signalled");
        DmaFence write = publish(DmaResvUsage.WRITE);
        assertTrue(fences.mustWait(b, DmaResvUsage.WRITE));
        write.signal();
        assertFalse(fences.mustWait(b, DmaResvUsage.BOOKKEEP));
    }
}
