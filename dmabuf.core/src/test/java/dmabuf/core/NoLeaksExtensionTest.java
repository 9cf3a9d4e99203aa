package dmabuf.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.testing.NoLeaks;

/** {@code @ExtendWith(NoLeaks.class)} finds the runtime through the field marked {@code @NoLeaks.Watch}. */
@ExtendWith(NoLeaks.class)
class NoLeaksExtensionTest {
    private final CoreFixture fx = new CoreFixture();

    @NoLeaks.Watch
    final Supplier<RuntimeDTO> runtime = () -> fx.core.snapshots().runtimeDTO();

    @Test
    void aTestThatPutsWhatItTookPasses() {
        DmaBuf buf = fx.exportShared(new TestExporter(DmaBufUapi.PAGE_SIZE), DmaBufUapi.PAGE_SIZE);
        int fd = fx.imp.fd(fx.imp.get(buf), DmaBufUapi.O_RDWR);
        fx.imp.close(fd);
        fx.imp.put(buf);
        fx.exp.put(buf);
        assertEquals(0, fx.core.buffers().all().size());
    }
}
