package dmabuf.importer.common;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;

/**
 * The CPU's view of a whole dma-buf inside a begin/end CPU-access bracket: one vmap, or, when the exporter refuses vmap
 * ({@link Errno#EINVAL}, as the kernel's {@code dma_buf_vmap} without the op), every page kmapped. Reads and writes go
 * to the exporter's memory in place; nothing is copied unless {@link #copyTo} is called, which counts what it copied.
 * Not thread-safe: one stage uses it, then closes it, which unmaps and ends the bracket.
 */
public final class CpuView implements AutoCloseable {
    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED
            .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final int PAGE_SHIFT = DmaBufUapi.PAGE_SHIFT;
    private static final long PAGE_MASK = DmaBufUapi.PAGE_SIZE - 1;

    private final DmaBufRegistry registry;
    private final DmaBuf buffer;
    private final DmaDataDirection direction;
    /** The vmap as returned (to vunmap it), and that view cut to the buffer's size; null when kmapped. */
    private final MemorySegment vmapped;
    private final MemorySegment whole;
    /** The kmapped pages, or null with a vmap. */
    private final MemorySegment[] pages;
    private long bytesCopied;
    private boolean closed;

    private CpuView(DmaBufRegistry registry, DmaBuf buffer, DmaDataDirection direction, MemorySegment vmapped,
            MemorySegment[] pages) {
        this.registry = registry;
        this.buffer = buffer;
        this.direction = direction;
        this.vmapped = vmapped;
        this.whole = vmapped == null ? null : vmapped.asSlice(0, buffer.size());
        this.pages = pages;
    }

    /**
     * Begins CPU access in {@code direction} and maps the buffer: vmap, or kmap page by page when vmap is refused with
     * EINVAL. On failure everything done is undone.
     *
     * @throws DmaBufException as the registry's calls
     */
    public static CpuView open(DmaBufRegistry registry, DmaBuf buffer, DmaDataDirection direction) {
        try (Cleanup undo = new Cleanup()) {
            registry.beginCpuAccess(buffer, direction);
            undo.push(() -> registry.endCpuAccess(buffer, direction));
            CpuView view;
            MemorySegment vmap = vmapOrNull(registry, buffer);
            if (vmap != null) {
                view = new CpuView(registry, buffer, direction, vmap, null);
            } else {
                int count = Math.toIntExact(buffer.pageCount());
                MemorySegment[] pages = new MemorySegment[count];
                for (int i = 0; i < count; i++) {
                    long index = i;
                    MemorySegment page = registry.kmap(buffer, index);
                    undo.push(() -> registry.kunmap(buffer, index, page));
                    pages[i] = page;
                }
                view = new CpuView(registry, buffer, direction, null, pages);
            }
            undo.release();
            return view;
        }
    }

    private static MemorySegment vmapOrNull(DmaBufRegistry registry, DmaBuf buffer) {
        try {
            return registry.vmap(buffer);
        } catch (DmaBufException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
            return null; // the exporter has no vmap: fall back to kmap
        }
    }

    /** {@code "vmap"} or {@code "kmap"}: how the bytes are reached. */
    public String access() {
        return whole != null ? "vmap" : "kmap";
    }

    /** The buffer's size in bytes. */
    public long size() {
        return buffer.size();
    }

    /** The byte at {@code offset}, unsigned. */
    public int get(long offset) {
        if (whole != null) {
            return whole.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
        }
        return pages[(int) (offset >>> PAGE_SHIFT)].get(ValueLayout.JAVA_BYTE, offset & PAGE_MASK) & 0xFF;
    }

    /** Writes the low byte of {@code value} at {@code offset}. */
    public void set(long offset, int value) {
        if (whole != null) {
            whole.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
        } else {
            pages[(int) (offset >>> PAGE_SHIFT)].set(ValueLayout.JAVA_BYTE, offset & PAGE_MASK, (byte) value);
        }
    }

    /** Writes {@code value} little endian at {@code offset}, also across a page boundary. */
    public void setIntLE(long offset, int value) {
        if (whole != null) {
            whole.set(INT_LE, offset, value);
        } else if ((offset & PAGE_MASK) <= PAGE_MASK - 3) {
            pages[(int) (offset >>> PAGE_SHIFT)].set(INT_LE, offset & PAGE_MASK, value);
        } else {
            for (int i = 0; i < 4; i++) {
                set(offset + i, value >>> (8 * i));
            }
        }
    }

    /**
     * Hands the bytes {@code [offset, offset + length)} to {@code sink} in place, as direct buffers over the exporter's
     * memory: one with a vmap, one per page touched with kmap. The buffers are valid only during the call.
     */
    public void forEachChunk(long offset, long length, Consumer<ByteBuffer> sink) {
        checkRange(offset, length);
        if (whole != null) {
            sink.accept(whole.asSlice(offset, length).asByteBuffer());
            return;
        }
        long at = offset;
        long end = offset + length;
        while (at < end) {
            long inPage = at & PAGE_MASK;
            long n = Math.min(end - at, DmaBufUapi.PAGE_SIZE - inPage);
            sink.accept(pages[(int) (at >>> PAGE_SHIFT)].asSlice(inPage, n).asByteBuffer());
            at += n;
        }
    }

    /** Copies bytes out (off the frame path: snapshots); counted in {@link #bytesCopied()}. */
    public void copyTo(long offset, byte[] target, int targetOffset, int length) {
        checkRange(offset, length);
        int[] done = {targetOffset};
        forEachChunk(offset, length, chunk -> {
            int n = chunk.remaining();
            chunk.get(target, done[0], n);
            done[0] += n;
        });
        bytesCopied += length;
    }

    /** Bytes this view copied out with {@link #copyTo}. */
    public long bytesCopied() {
        return bytesCopied;
    }

    private void checkRange(long offset, long length) {
        if (offset < 0 || length < 0 || offset + length > buffer.size()) {
            throw new DmaBufException(Errno.EINVAL, "bytes " + offset + ".." + (offset + length) + " are outside "
                    + buffer + " of " + buffer.size() + " bytes");
        }
    }

    /** Unmaps and ends the bracket; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (Cleanup undo = new Cleanup()) {
            undo.push(() -> registry.endCpuAccess(buffer, direction));
            if (whole != null) {
                undo.push(() -> registry.vunmap(buffer, vmapped));
            } else {
                for (int i = 0; i < pages.length; i++) {
                    long index = i;
                    MemorySegment page = pages[i];
                    undo.push(() -> registry.kunmap(buffer, index, page));
                }
            }
        }
    }
}
