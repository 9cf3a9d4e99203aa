package dmabuf.core.client;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import dmabuf.api.DmaDataDirection;

/**
 * What one bundle holds of one buffer besides fds, attachments and mmaps: object references, vmaps, open CPU-access
 * brackets and kmapped pages. Guarded by its own monitor; never lock a buffer while holding it.
 */
public final class Holding {
    /** An open CPU-access bracket on part of the buffer. */
    public record Bracket(DmaDataDirection direction, long offset, long length) {
        /** True when the bracket covers any byte of {@code [from, from + len)}. */
        public boolean overlaps(long from, long len) {
            return offset < from + len && from < offset + length;
        }
    }

    /** A page kmapped by this bundle. */
    public record Kmap(long pageIndex, MemorySegment view, MemorySegment exporterSegment, boolean atomic) {
    }

    long refs;
    long vmaps;
    final List<Bracket> brackets = new ArrayList<>(2);
    final List<Kmap> kmaps = new ArrayList<>(2);
    /** The bracket closed last, for {@link #openBracket} to reuse (brackets are immutable). */
    private Bracket lastClosed;

    /** Object references held. */
    public synchronized long refs() {
        return refs;
    }

    /** Adds an object reference. */
    public synchronized void addRef() {
        refs++;
    }

    /** Removes an object reference; false (and no change) when none is held. */
    public synchronized boolean removeRef() {
        if (refs == 0) {
            return false;
        }
        refs--;
        return true;
    }

    /** Vmaps held. */
    public synchronized long vmaps() {
        return vmaps;
    }

    /** Adds a vmap. */
    public synchronized void addVmap() {
        vmaps++;
    }

    /** Removes a vmap; false when none is held. */
    public synchronized boolean removeVmap() {
        if (vmaps == 0) {
            return false;
        }
        vmaps--;
        return true;
    }

    /**
     * Records an open bracket. The bracket closed last is reused when it is the same, so a begin/end loop (every
     * frame brackets the same range) allocates nothing.
     */
    public synchronized void openBracket(DmaDataDirection direction, long offset, long length) {
        Bracket b = lastClosed;
        if (b != null && b.direction() == direction && b.offset() == offset && b.length() == length) {
            lastClosed = null;
        } else {
            b = new Bracket(direction, offset, length);
        }
        brackets.add(b);
    }

    /** Closes the earliest open bracket with this direction and range; false (and no change) when none is open. */
    public synchronized boolean closeBracket(DmaDataDirection direction, long offset, long length) {
        for (int i = 0; i < brackets.size(); i++) {
            Bracket b = brackets.get(i);
            if (b.direction() == direction && b.offset() == offset && b.length() == length) {
                brackets.remove(i);
                lastClosed = b;
                return true;
            }
        }
        return false;
    }

    /** True when an open bracket covers part of {@code [offset, offset + length)}. */
    public synchronized boolean bracketCovers(long offset, long length) {
        for (int i = 0; i < brackets.size(); i++) { // indexed: no iterator on the kmap path
            if (brackets.get(i).overlaps(offset, length)) {
                return true;
            }
        }
        return false;
    }

    /** The open brackets. */
    public synchronized List<Bracket> brackets() {
        return List.copyOf(brackets);
    }

    /** Records a kmapped page. */
    public synchronized void addKmap(Kmap kmap) {
        kmaps.add(kmap);
    }

    /** Removes the kmap of that page whose view is the segment (address and scope); null when there is none. */
    public synchronized Kmap removeKmap(long pageIndex, MemorySegment view, boolean atomic) {
        for (int i = 0; i < kmaps.size(); i++) {
            Kmap k = kmaps.get(i);
            // Same address is not enough: a stale view of an earlier buffer on recycled storage has it too; only a
            // segment of the view's own scope is what kmap returned.
            if (k.pageIndex() == pageIndex && k.atomic() == atomic && view != null
                    && k.view().address() == view.address() && k.view().scope().equals(view.scope())) {
                return kmaps.remove(i);
            }
        }
        return null;
    }

    /** The kmapped pages. */
    public synchronized List<Kmap> kmaps() {
        return List.copyOf(kmaps);
    }

    /** Takes everything out, for reclaim: returns it and leaves this holding empty. */
    public synchronized Snapshot drain() {
        Snapshot s = new Snapshot(refs, vmaps, List.copyOf(brackets), List.copyOf(kmaps));
        refs = 0;
        vmaps = 0;
        brackets.clear();
        kmaps.clear();
        return s;
    }

    /** True when nothing is held. */
    public synchronized boolean isEmpty() {
        return refs == 0 && vmaps == 0 && brackets.isEmpty() && kmaps.isEmpty();
    }

    /** Everything a holding had, taken out at once. */
    public record Snapshot(long refs, long vmaps, List<Bracket> brackets, List<Kmap> kmaps) {
    }
}
