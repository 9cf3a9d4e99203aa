package dmabuf.core.buffer;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The scope of a buffer's CPU views: one shared arena, created with the first view and closed once when the buffer
 * is released or revoked, so every view handed out (vmap, kmap, mmap) becomes invalid at the same instant and a
 * stale access throws {@link IllegalStateException}. Creating the arena lazily keeps buffers that never reach the
 * CPU free of the ~20 us handshake a shared arena's close costs.
 */
final class ViewScope {
    private Arena arena;
    private boolean closed;

    /**
     * Re-scopes {@code segment} (already checked to be native and long enough) to this scope at {@code length}.
     *
     * @return the view, or null once the scope is closed
     */
    @SuppressWarnings("restricted") // reinterpret is the point: the view must die with the buffer, not the pool
    synchronized MemorySegment view(MemorySegment segment, long length) {
        if (closed) {
            return null;
        }
        if (arena == null) {
            arena = Arena.ofShared();
        }
        return segment.reinterpret(length, arena, null);
    }

    /**
     * Closes the arena if one was created. Throws {@link IllegalStateException} while a native call holds one of its
     * segments; the caller retries, and the arena stays open until a close succeeds.
     */
    void close() {
        Arena toClose;
        synchronized (this) {
            closed = true;
            toClose = arena;
        }
        if (toClose != null) {
            toClose.close();
            synchronized (this) {
                arena = null;
            }
        }
    }
}
