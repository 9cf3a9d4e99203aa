package dmabuf.exporter.v4l2;

import static dmabuf.exporter.v4l2.Rig.MIB;
import static dmabuf.exporter.v4l2.Rig.assertErrno;
import static dmabuf.exporter.v4l2.Rig.nv12;
import static dmabuf.exporter.v4l2.Rig.rgba;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.DmaBufException;
import dmabuf.api.Errno;
import dmabuf.exporter.v4l2.api.BufferState;
import dmabuf.exporter.v4l2.api.CaptureDevice;
import dmabuf.exporter.v4l2.api.Format;
import dmabuf.exporter.v4l2.api.PixelFormat;

/** The device's own rules for S_FMT, REQBUFS, QBUF, DQBUF and STREAMON, with the kernel's errnos. */
class QueueRulesTest {
    private Rig rig = new Rig();

    @AfterEach
    void close() {
        rig.close();
    }

    private VideoDevice dev() {
        return rig.device;
    }

    @Test
    void theDefaultFormatIsConfiguredAndTryFormatChangesNothing() {
        assertEquals(rgba(64, 32), dev().format());
        Format tried = dev().tryFormat(PixelFormat.NV12, 650, 2);
        assertEquals(656, tried.bytesPerLine());
        assertEquals(656 * 3, tried.sizeImage());
        assertEquals(rgba(64, 32), dev().format(), "TRY_FMT does not set");
        assertErrno(Errno.EINVAL, () -> dev().tryFormat(PixelFormat.NV12, 651, 2));
        assertErrno(Errno.EINVAL, () -> dev().tryFormat(PixelFormat.RGBA, 0, 2));
    }

    @Test
    void setFormatIsEinvalForBadSizesAndEbusyWhileBuffersAreAllocated() {
        assertEquals(nv12(640, 480), dev().setFormat(PixelFormat.NV12, 640, 480));
        assertEquals(nv12(640, 480), dev().format());
        assertErrno(Errno.EINVAL, () -> dev().setFormat(PixelFormat.NV12, 641, 480));
        assertErrno(Errno.EINVAL, () -> dev().setFormat(PixelFormat.RGBA, 8193, 1));
        assertErrno(Errno.EINVAL, () -> dev().setFormat(PixelFormat.RGBA, 1, 0));
        assertEquals(nv12(640, 480), dev().format(), "a refused S_FMT changes nothing");

        dev().setFormat(PixelFormat.RGBA, 64, 32);
        assertEquals(2, dev().requestBuffers(2));
        assertErrno(Errno.EBUSY, () -> dev().setFormat(PixelFormat.RGBA, 32, 32));
        assertErrno(Errno.EBUSY, () -> dev().setFormat(PixelFormat.RGBA, 64, 32)); // even the same one
        assertErrno(Errno.EINVAL, () -> dev().setFormat(PixelFormat.NV12, 3, 3)); // validated first, as drivers do
        assertEquals(0, dev().requestBuffers(0));
        Format f = dev().setFormat(PixelFormat.RGBA, 100, 50);
        assertEquals(1, dev().requestBuffers(1));
        long pageAligned = (f.sizeImage() + 4095) & -4096L;
        assertEquals(pageAligned, dev().queryBuffer(0).length(), "buffers have the new sizeimage, in whole pages");
    }

    @Test
    void reqbufsReturnsTheCountAllocatedClampedAndZeroFreesAll() {
        long capacity = rig.poolCapacity();
        assertEquals(3, dev().requestBuffers(3));
        assertEquals(capacity - 3 * 8192, rig.poolFree());
        dev().queryBuffer(2);
        assertErrno(Errno.EINVAL, () -> dev().queryBuffer(3));
        assertEquals(5, dev().requestBuffers(5), "REQBUFS again frees the old buffers first");
        assertEquals(capacity - 5 * 8192, rig.poolFree());
        assertEquals(CaptureDevice.MAX_BUFFERS, dev().requestBuffers(1000), "clamped to VIDEO_MAX_FRAME");
        assertErrno(Errno.EINVAL, () -> dev().requestBuffers(-1));
        assertEquals(CaptureDevice.MAX_BUFFERS, (capacity - rig.poolFree()) / 8192, "a refused call changes nothing");
        assertEquals(0, dev().requestBuffers(0));
        assertEquals(capacity, rig.poolFree(), "the pool is whole again");
        assertErrno(Errno.EINVAL, () -> dev().queryBuffer(0));
        assertEquals(0, dev().requestBuffers(0), "freeing nothing is fine");
    }

    @Test
    void reqbufsAllocatesWhatFitsAndIsEnomemWhenNothingFits() {
        dev().setFormat(PixelFormat.RGBA, 512, 256); // exactly 512 KiB: two fit in the 1 MiB pool
        assertEquals(2, dev().requestBuffers(5));
        assertEquals(0, rig.poolFree());
        assertEquals(0, dev().requestBuffers(0));
        dev().setFormat(PixelFormat.RGBA, 1024, 512); // 2 MiB
        DmaBufException e = assertErrno(Errno.ENOMEM, () -> dev().requestBuffers(1));
        assertTrue(e.getMessage().contains("video0") && e.getMessage().contains("memory.mb"), e.getMessage());
        assertEquals(MIB, rig.poolFree(), "nothing stays allocated after ENOMEM");
        assertErrno(Errno.EINVAL, () -> dev().streamOn()); // still no buffers
    }

    @Test
    void reqbufsIsEbusyWhileStreaming() {
        dev().requestBuffers(2);
        dev().streamOn();
        assertErrno(Errno.EBUSY, () -> dev().requestBuffers(0));
        assertErrno(Errno.EBUSY, () -> dev().requestBuffers(4));
        dev().queryBuffer(1); // still there
        dev().streamOff();
        assertEquals(0, dev().requestBuffers(0));
    }

    @Test
    void qbufRefusesBadIndexesAndBuffersNotDequeued() {
        assertErrno(Errno.EINVAL, () -> dev().queue(0)); // no buffers yet
        dev().requestBuffers(2);
        assertErrno(Errno.EINVAL, () -> dev().queue(-1));
        assertErrno(Errno.EINVAL, () -> dev().queue(2));
        dev().queue(0);
        assertEquals(BufferState.QUEUED, dev().queryBuffer(0).state());
        assertErrno(Errno.EINVAL, () -> dev().queue(0)); // already queued
        assertEquals(BufferState.DEQUEUED, dev().queryBuffer(1).state());
    }

    @Test
    void streamOnNeedsBuffersAndDqbufNeedsStreaming() {
        assertErrno(Errno.EINVAL, () -> dev().streamOn());
        dev().requestBuffers(2);
        assertErrno(Errno.EINVAL, () -> dev().dequeue(0, TimeUnit.SECONDS));
        dev().streamOn();
        dev().streamOn(); // again: a no-op
        assertTrue(dev().isStreaming());
        assertErrno(Errno.EAGAIN, () -> dev().dequeue(0, TimeUnit.SECONDS)); // nothing queued: O_NONBLOCK
        long t0 = System.nanoTime();
        assertErrno(Errno.EAGAIN, () -> dev().dequeue(30, TimeUnit.MILLISECONDS));
        assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(30), "waited the timeout");
        assertErrno(Errno.EINVAL, () -> dev().dequeue(-1, TimeUnit.SECONDS));
        assertErrno(Errno.EINVAL, () -> dev().dequeue(1, null));
        dev().streamOff();
        dev().streamOff(); // again: a no-op
        assertFalse(dev().isStreaming());
        assertErrno(Errno.EINVAL, () -> dev().dequeue(0, TimeUnit.SECONDS));
    }

    @Test
    void streamOffEndsAWaitingDqbufWithEinval() throws Exception {
        dev().requestBuffers(1);
        dev().streamOn();
        CountDownLatch calling = new CountDownLatch(1);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            calling.countDown();
            try {
                dev().dequeue(30, TimeUnit.SECONDS);
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        long t0 = System.nanoTime();
        waiter.start();
        assertTrue(calling.await(5, TimeUnit.SECONDS));
        dev().streamOff();
        waiter.join(10_000);
        assertFalse(waiter.isAlive(), "DQBUF returned");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "long before its 30 s timeout");
        assertTrue(outcome.get() instanceof DmaBufException e && e.errno() == Errno.EINVAL, "" + outcome.get());
    }

    @Test
    void anInterruptedDqbufIsEintrAndKeepsTheInterrupt() throws Exception {
        dev().requestBuffers(1);
        dev().streamOn();
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
        Thread t = new Thread(() -> {
            Thread.currentThread().interrupt();
            try {
                dev().dequeue(30, TimeUnit.SECONDS);
            } catch (Throwable e) {
                outcome.set(e);
            }
            stillInterrupted.set(Thread.currentThread().isInterrupted());
        });
        t.start();
        t.join(10_000);
        assertFalse(t.isAlive());
        assertTrue(outcome.get() instanceof DmaBufException e && e.errno() == Errno.EINTR, "" + outcome.get());
        assertEquals(Boolean.TRUE, stillInterrupted.get());
    }
}
