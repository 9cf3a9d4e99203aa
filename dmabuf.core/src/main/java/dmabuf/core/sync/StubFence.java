package dmabuf.core.sync;

import dmabuf.api.Errno;
import dmabuf.core.CoreLog;
import dmabuf.core.Errors;

/** The always-signalled fence of {@code dma_fence_get_stub}: context 0, what "nothing to wait for" returns. */
final class StubFence extends Fence {
    StubFence(CoreLog log, Signalling signalling) {
        super(0, 0, "stub", "stub", log, signalling);
        signalWith(null, false);
    }

    @Override
    public void signal() {
        throw Errors.error(Errno.EALREADY, "the stub fence is always signalled");
    }
}
