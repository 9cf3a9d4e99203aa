package dmabuf.exporter.v4l2;

import static dmabuf.exporter.v4l2.Rig.MIB;
import static dmabuf.exporter.v4l2.Rig.assertErrno;
import static dmabuf.exporter.v4l2.Rig.nv12;
import static dmabuf.exporter.v4l2.Rig.rgba;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dmabuf.api.Device;
import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.exporter.v4l2.api.BufferState;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.Frame;
import dmabuf.exporter.v4l2.api.TestPattern;

/** The frame generator: order, sequence numbers, the pattern in memory, pacing, STREAMOFF. */
class StreamingTest {
    private static final long WAIT_S = 10;

    /** What the device wrote into buffer {@code index}: its allocation's memory, as the device sees it. */
    private static MemorySegment memoryOf(Rig rig, int index) {
        return rig.device.storage(index).allocation().contiguousView();
    }

    private static void streamInOrder(Format format) {
        try (Rig rig = new Rig(format, 4 * MIB, 0)) {
            VideoDevice dev = rig.device;
            assertEquals(3, dev.requestBuffers(3));
            for (int i = 0; i < 3; i++) {
                dev.queue(i);
            }
            dev.streamOn();
            long lastTimestamp = Long.MIN_VALUE;
            for (int n = 0; n < 12; n++) {
                Frame f = dev.dequeue(WAIT_S, TimeUnit.SECONDS);
                assertEquals(n, f.sequence(), "frames come in sequence order, none dropped at frame rate 0");
                assertEquals(n % 3, f.index(), "buffers are filled in the order they were queued");
                assertEquals(format.sizeImage(), f.bytesUsed());
                assertFalse(f.error());
                assertTrue(f.timestampNanos() >= lastTimestamp, "monotonic timestamps");
                lastTimestamp = f.timestampNanos();
                assertEquals(BufferState.DEQUEUED, dev.queryBuffer(f.index()).state());
                MemorySegment mem = memoryOf(rig, f.index());
                assertEquals(n, TestPattern.sequenceOf(mem), "the sequence number is in the first 8 bytes");
                assertEquals(-1, TestPattern.firstMismatch(mem, format, n), "frame " + n + " is the pattern");
                dev.queue(f.index());
            }
            dev.streamOff();
            assertTrue(dev.framesDone() >= 12);
            assertEquals(0, dev.framesDropped());
        }
    }

    @Test
    void rgbaFramesComeInSequenceOrderWithThePattern() {
        streamInOrder(rgba(320, 240));
    }

    @Test
    void nv12FramesComeInSequenceOrderWithThePattern() {
        streamInOrder(nv12(318, 240)); // bytesperline 320: padding included
    }

    @Test
    void aFixedFrameRatePacesTheFramesAndDropsWhileNoBufferIsQueued() {
        int fps = 100;
        long period = TimeUnit.SECONDS.toNanos(1) / fps;
        try (Rig rig = new Rig(rgba(64, 32), MIB, fps)) {
            VideoDevice dev = rig.device;
            dev.requestBuffers(4);
            for (int i = 0; i < 4; i++) {
                dev.queue(i);
            }
            long t0 = System.nanoTime();
            dev.streamOn();
            long lastSeq = -1;
            for (int n = 0; n < 8; n++) {
                Frame f = dev.dequeue(WAIT_S, TimeUnit.SECONDS);
                assertTrue(f.sequence() > lastSeq, "sequence numbers grow");
                lastSeq = f.sequence();
                assertTrue(f.timestampNanos() - t0 >= f.sequence() * period,
                        "frame " + f.sequence() + " came " + (f.timestampNanos() - t0) / 1000
                                + " us after STREAMON, earlier than its slot at " + f.sequence() * period / 1000);
                assertEquals(-1, TestPattern.firstMismatch(memoryOf(rig, f.index()), rig.device.format(),
                        f.sequence()));
                dev.queue(f.index());
            }
            dev.streamOff();
            // With no buffer queued the generator keeps ticking and drops frames; the counter still advances.
            long dropsAtStart = dev.framesDropped();
            for (int i = 0; i < 4; i++) {
                dev.queue(i);
            }
            dev.streamOn();
            Frame first = dev.dequeue(WAIT_S, TimeUnit.SECONDS);
            assertEquals(0, first.sequence(), "STREAMON restarts the sequence");
            for (int n = 1; n < 4; n++) {
                assertEquals(n, dev.dequeue(WAIT_S, TimeUnit.SECONDS).sequence(), "queued buffers: no drops");
            }
            for (int tries = 0; tries < 500 && dev.framesDropped() == dropsAtStart; tries++) {
                assertErrno(Errno.EAGAIN, () -> dev.dequeue(20, TimeUnit.MILLISECONDS)); // a bounded wait
            }
            assertTrue(dev.framesDropped() > dropsAtStart, "frames were dropped while no buffer was queued");
            dev.queue(first.index());
            Frame later = dev.dequeue(WAIT_S, TimeUnit.SECONDS);
            dev.streamOff();
            assertTrue(later.sequence() > 4, "the dropped frames left a gap: " + later.sequence());
            assertTrue(later.sequence() - 4 <= dev.framesDropped() - dropsAtStart, "every gap is a dropped frame");
            assertEquals(-1, TestPattern.firstMismatch(memoryOf(rig, later.index()), dev.format(), later.sequence()));
        }
    }

    @Test
    void streamOffGivesEveryBufferBackAndStopsTheGenerator() {
        // A CPU-access bracket on buffer 1 holds the device off it: buffer 1 stays queued or active, buffer 2 queued.
        try (Rig rig = new Rig(rgba(64, 32), MIB, 0)) {
            VideoDevice dev = rig.device;
            dev.requestBuffers(3);
            DmaBuf one = dev.exportBuffer(1, DmaBufUapi.O_RDWR);
            rig.imp.get(one);
            rig.imp.beginCpuAccess(one, DmaDataDirection.FROM_DEVICE);
            for (int i = 0; i < 3; i++) {
                dev.queue(i);
            }
            dev.streamOn();
            Frame f0 = dev.dequeue(WAIT_S, TimeUnit.SECONDS);
            assertEquals(0, f0.index());
            dev.queue(0);
            assertErrno(Errno.EAGAIN, () -> dev.dequeue(100, TimeUnit.MILLISECONDS));
            assertTrue(EnumSet.of(BufferState.QUEUED, BufferState.ACTIVE).contains(dev.queryBuffer(1).state()));
            assertEquals(BufferState.QUEUED, dev.queryBuffer(2).state());
            assertEquals(BufferState.QUEUED, dev.queryBuffer(0).state());
            assertEquals(0, dev.storage(1).dmaWrites(), "the device did not write under the CPU's bracket");
            Thread generator = dev.generatorThread();
            assertNotNull(generator);

            dev.streamOff();
            assertFalse(generator.isAlive(), "STREAMOFF joined the generator thread");
            for (int i = 0; i < 3; i++) {
                assertEquals(BufferState.DEQUEUED, dev.queryBuffer(i).state(), "buffer " + i);
            }
            assertErrno(Errno.EINVAL, () -> dev.dequeue(0, TimeUnit.SECONDS));
            assertEquals(0, dev.storage(1).dmaWrites());

            // The bracket ends; the device may write buffer 1 again.
            rig.imp.endCpuAccess(one, DmaDataDirection.FROM_DEVICE);
            dev.queue(1);
            dev.streamOn();
            Frame f = dev.dequeue(WAIT_S, TimeUnit.SECONDS);
            assertEquals(1, f.index());
            assertEquals(0, f.sequence());
            assertEquals(1, dev.storage(1).dmaWrites());
            assertEquals(1, dev.storage(1).cpuBegins());
            assertEquals(1, dev.storage(1).cpuEnds());
            dev.streamOff();
            rig.imp.put(one);
        }
    }

    @Test
    void aBracketOpenedDuringStreamingSeesACompleteFrame() {
        try (Rig rig = new Rig(rgba(256, 256), 4 * MIB, 0)) {
            VideoDevice dev = rig.device;
            dev.requestBuffers(2);
            DmaBuf zero = dev.exportBuffer(0, DmaBufUapi.O_RDONLY);
            rig.imp.get(zero);
            var att = rig.imp.attach(zero, Device.of("reader"));
            dev.queue(0);
            dev.queue(1);
            dev.streamOn();
            for (int n = 0; n < 6; n++) {
                Frame f = dev.dequeue(WAIT_S, TimeUnit.SECONDS);
                if (f.index() == 0) {
                    rig.imp.beginCpuAccess(zero, DmaDataDirection.FROM_DEVICE);
                    MemorySegment view = rig.imp.vmap(zero);
                    assertEquals(-1, TestPattern.firstMismatch(view, dev.format(), f.sequence()));
                    rig.imp.vunmap(zero, view);
                    rig.imp.endCpuAccess(zero, DmaDataDirection.FROM_DEVICE);
                }
                dev.queue(f.index());
            }
            dev.streamOff();
            rig.imp.detach(att);
            rig.imp.put(zero);
            assertEquals(3, dev.storage(0).cpuBegins());
            assertEquals(3, dev.storage(0).cpuEnds());
        }
    }
}
