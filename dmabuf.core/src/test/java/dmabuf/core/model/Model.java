package dmabuf.core.model;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.Errno;
import dmabuf.api.runtime.LeakDTO;

/**
 * The reference model of the dma-buf core: plain Java, no locks, no FFM, nothing shared with the core. Every
 * operation is written as the rule reads in the brief and {@code DmaBufRegistry}'s javadoc: it checks its
 * preconditions in order and throws {@link Fail} with the errno of the first one that does not hold (changing
 * nothing), or applies the change and returns the result. Exporter calls are counted the way a {@code TestExporter}
 * counts them, so the test can compare them with the real exporters' counters.
 * <p>
 * Where the rules leave something open, the model follows the core's code and says so here:
 * <ul>
 * <li>the first failing check wins, in the core's order: e.g. mmap checks fd, prot, access, range and the exporter's
 * mmap before the buffer's state (a bad range on a revoked buffer is EINVAL, not ENODEV); vmap checks for an exporter
 * vmap first; fd checks its flags before the buffer's state;</li>
 * <li>llseek and fdinfo need only the fd, so they work on a revoked buffer's fd; dup takes a reference, so it is
 * ENODEV there;</li>
 * <li>release forgets every bundle's holding of the buffer, so put, endCpuAccess, vunmap and kunmap of a released
 * buffer are EINVAL (nothing held), not EBADF; revoke of a released buffer is EBADF (EPERM for a non-owner first), a
 * second revoke does nothing;</li>
 * <li>kunmap compares the segment's address and scope (not its size), vunmap address, size and scope: any view of
 * the same buffer at the same place passes (the model tracks views as buffer, offset and length);</li>
 * <li>the thread's atomic kmaps (at most two, undone last-in first-out by the bundle that made them) are the ones
 * someone can still undo: entries of bundles that went away and of released buffers drop out; a revoked buffer's
 * entry stays until its bundle undoes it (a cleanup call that succeeds on a revoked buffer).</li>
 * </ul>
 */
final class Model {

    /** The fd limit the model runs with (small, so EMFILE is reached). */
    static final int FD_LIMIT = 5;
    /** The exporter service name registered for bundle 0 (exporter.bundle). */
    static final String EXPORTER_SERVICE = "svc.exp";

    /** A refused operation: the errno the model predicts, and why. */
    static final class Fail extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final Errno errno;

        Fail(Errno errno, String why) {
            super(errno + ": " + why, null, false, false);
            this.errno = errno;
        }
    }

    /** Which kind of exporter a buffer has. */
    enum Kind {
        /** TestExporter: every optional op. */
        FULL,
        /** TestExporter.Minimal: map, unmap, release only. */
        MINIMAL,
        /** TestExporter.Caching: cacheSgtMapping. */
        CACHING,
        /** TestExporter.Dynamic: pin/unpin. */
        DYNAMIC;

        boolean hasOptionalOps() {
            return this != MINIMAL;
        }
    }

    enum BufState { LIVE, REVOKED, RELEASED }

    enum AttState { ATTACHED, REVOKED, DETACHED }

    /** A bundle using the registry. */
    static final class MBundle {
        final int index;
        final long bundleId;
        final String symbolicName;
        boolean closed;
        final TreeMap<Integer, MFile> fds = new TreeMap<>();
        final LinkedHashMap<MBuf, MHold> holdings = new LinkedHashMap<>();
        final List<MAtt> atts = new ArrayList<>();
        final List<MMapping> mmaps = new ArrayList<>();

        MBundle(int index, long bundleId, String symbolicName) {
            this.index = index;
            this.bundleId = bundleId;
            this.symbolicName = symbolicName;
        }

        @Override
        public String toString() {
            return symbolicName;
        }
    }

    /** One fd: the buffer and the fd's flags. */
    record MFile(MBuf buf, int flags) {
        boolean readable() {
            int mode = flags & DmaBufUapi.O_ACCMODE;
            return mode == DmaBufUapi.O_RDONLY || mode == DmaBufUapi.O_RDWR;
        }

        boolean writable() {
            int mode = flags & DmaBufUapi.O_ACCMODE;
            return mode == DmaBufUapi.O_WRONLY || mode == DmaBufUapi.O_RDWR;
        }
    }

    /** An open CPU-access bracket. */
    record Bracket(DmaDataDirection dir, long offset, long length) {
        boolean overlaps(long from, long len) {
            return offset < from + len && from < offset + length;
        }
    }

    /** A kmapped page in a holding. */
    record MKmap(long page, boolean atomic) {
    }

    /** What one bundle holds of one buffer besides fds, attachments and mmaps. */
    static final class MHold {
        long refs;
        long vmaps;
        final List<Bracket> brackets = new ArrayList<>();
        final List<MKmap> kmaps = new ArrayList<>();
    }

    /** A buffer. */
    static final class MBuf {
        final int index;
        final long id;
        final long size;
        final int exportFlags;
        final MBundle owner;
        final Kind kind;
        final String exporterName;
        BufState state = BufState.LIVE;
        String name;
        long refs;
        long vmapCount;
        boolean releaseRan;
        final List<MAtt> linked = new ArrayList<>();
        /** Expected exporter op counts, as TestExporter.count(op). */
        final Map<String, Integer> calls = new TreeMap<>();
        /** Expected "op:DIRECTION" multiset, as TestExporter.directions. */
        final Map<String, Integer> dirs = new TreeMap<>();
        /** Expected "op:offset+length" multiset, as TestExporter.ranges. */
        final Map<String, Integer> ranges = new TreeMap<>();

        MBuf(int index, long id, long size, int exportFlags, MBundle owner, Kind kind, String exporterName,
                String name) {
            this.index = index;
            this.id = id;
            this.size = size;
            this.exportFlags = exportFlags;
            this.owner = owner;
            this.kind = kind;
            this.exporterName = exporterName;
            this.name = name;
        }

        long pageCount() {
            return (size + DmaBufUapi.PAGE_SIZE - 1) >>> DmaBufUapi.PAGE_SHIFT;
        }

        void call(String op) {
            calls.merge(op, 1, Integer::sum);
        }

        /** An exporter op that TestExporter records with its direction (Minimal only counts map and unmap). */
        void callWithDir(String op, DmaDataDirection dir) {
            call(op);
            if (kind.hasOptionalOps()) {
                dirs.merge(op + ":" + dir, 1, Integer::sum);
            }
        }

        void callWithRange(String op, DmaDataDirection dir, long offset, long length) {
            callWithDir(op, dir);
            ranges.merge(op + ":" + offset + "+" + length, 1, Integer::sum);
        }

        @Override
        public String toString() {
            return "buf#" + index;
        }
    }

    /** An attachment. */
    static final class MAtt {
        final int index;
        final MBuf buf;
        final MBundle bundle;
        final boolean dynamic;
        final boolean onePageDevice;
        AttState state = AttState.ATTACHED;
        final List<MTable> tables = new ArrayList<>();
        MTable cached;
        boolean corePinned;
        int invalidations;

        MAtt(int index, MBuf buf, MBundle bundle, boolean dynamic, boolean onePageDevice) {
            this.index = index;
            this.buf = buf;
            this.bundle = bundle;
            this.dynamic = dynamic;
            this.onePageDevice = onePageDevice;
        }

        @Override
        public String toString() {
            return "att#" + index;
        }
    }

    /** A table mapAttachment returned; identity matters. */
    static final class MTable {
        final int index;
        final MAtt att;
        final DmaDataDirection dir;

        MTable(int index, MAtt att, DmaDataDirection dir) {
            this.index = index;
            this.att = att;
            this.dir = dir;
        }
    }

    /** An mmap. */
    static final class MMapping {
        final int index;
        final MBuf buf;
        final MBundle bundle;
        final long offset;
        final long length;
        final int prot;
        boolean open = true;

        MMapping(int index, MBuf buf, MBundle bundle, long offset, long length, int prot) {
            this.index = index;
            this.buf = buf;
            this.bundle = bundle;
            this.offset = offset;
            this.length = length;
            this.prot = prot;
        }
    }

    /**
     * What the core can tell about a segment passed back to it: the buffer whose CPU-view scope it belongs to and the
     * byte range of the buffer's storage it shows (null buffer: a segment the core never handed out).
     */
    record Seg(MBuf buf, long offset, long length) {
        static final Seg FOREIGN = new Seg(null, -1, -1);

        /** Same address and scope: what kunmap compares. */
        boolean sameAddress(MBuf b, long byteOffset) {
            return buf == b && offset == byteOffset;
        }

        /** Same address, size and scope: what vunmap compares. */
        boolean sameView(MBuf b, long byteOffset, long byteLength) {
            return buf == b && offset == byteOffset && length == byteLength;
        }
    }

    /** An entry of the calling thread's atomic kmap stack. */
    record Atomic(MBundle bundle, MBuf buf, long page) {
    }

    final List<MBundle> bundles = new ArrayList<>();
    final List<MBuf> bufs = new ArrayList<>();
    final List<MAtt> atts = new ArrayList<>();
    final List<MTable> tables = new ArrayList<>();
    final List<MMapping> mappings = new ArrayList<>();
    /** The thread's atomic kmaps, most recent first. */
    final Deque<Atomic> atomics = new ArrayDeque<>();
    final Map<String, Integer> leaks = new TreeMap<>();
    long leakTotal;
    long nextId = 1;

    Model() {
        bundles.add(new MBundle(0, 10, "exporter.bundle"));
        bundles.add(new MBundle(1, 20, "importer.bundle"));
        bundles.add(new MBundle(2, 30, "third.bundle"));
    }

    // ---- shared checks ------------------------------------------------------------------------------------------

    private static void open(MBundle c) {
        if (c.closed) {
            throw new Fail(Errno.ENODEV, c + " no longer uses the registry");
        }
    }

    /** A buffer that is not live: ENODEV when revoked, EBADF when released. */
    private static void live(MBuf b) {
        if (b.state == BufState.REVOKED) {
            throw new Fail(Errno.ENODEV, b + " is revoked");
        }
        if (b.state == BufState.RELEASED) {
            throw new Fail(Errno.EBADF, b + " is released");
        }
    }

    private static MFile file(MBundle c, int fd) {
        MFile f = c.fds.get(fd);
        if (f == null) {
            throw new Fail(Errno.EBADF, "fd " + fd + " is not open in " + c);
        }
        return f;
    }

    private static void direction(DmaDataDirection dir) {
        if (dir == null || dir == DmaDataDirection.NONE) {
            throw new Fail(Errno.EINVAL, "direction " + dir);
        }
    }

    private static MHold hold(MBundle c, MBuf b) {
        return c.holdings.computeIfAbsent(b, k -> new MHold());
    }

    /** SET_NAME's argument: null is EFAULT, it ends at the first NUL, at most 31 bytes of UTF-8 (EINVAL). */
    static String checkName(String requested) {
        if (requested == null) {
            throw new Fail(Errno.EFAULT, "null name");
        }
        int nul = requested.indexOf('\0');
        String name = nul >= 0 ? requested.substring(0, nul) : requested;
        int bytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (bytes >= DmaBufUapi.DMA_BUF_NAME_LEN) {
            throw new Fail(Errno.EINVAL, "name of " + bytes + " bytes");
        }
        return name;
    }

    /** The lowest free fd under the limit (EMFILE). */
    private static int install(MBundle c, MFile f) {
        if (c.fds.size() >= FD_LIMIT) {
            throw new Fail(Errno.EMFILE, c + " has " + c.fds.size() + " fds open");
        }
        int fd = 0;
        while (c.fds.containsKey(fd)) {
            fd++;
        }
        c.fds.put(fd, f);
        return fd;
    }

    // ---- export and references ------------------------------------------------------------------------------

    MBuf export(MBundle c, long size, int flags, Kind kind, String exporter, String name) {
        open(c);
        if (size <= 0) {
            throw new Fail(Errno.EINVAL, "size " + size);
        }
        if ((flags & ~DmaBufUapi.O_ACCMODE) != 0 || (flags & DmaBufUapi.O_ACCMODE) == DmaBufUapi.O_ACCMODE) {
            throw new Fail(Errno.EINVAL, "export flags " + flags);
        }
        if (exporter != null && !(c.index == 0 && EXPORTER_SERVICE.equals(exporter))) {
            throw new Fail(Errno.EINVAL, "exporter '" + exporter + "' is not a service of " + c);
        }
        String checked = name == null ? null : checkName(name);
        MBuf b = new MBuf(bufs.size(), nextId++, size, flags, c, kind, exporter != null ? exporter : c.symbolicName,
                checked);
        bufs.add(b);
        b.refs = 1;
        hold(c, b).refs++;
        return b;
    }

    int fd(MBundle c, MBuf b, int flags) {
        open(c);
        if ((flags & ~(DmaBufUapi.O_ACCMODE | DmaBufUapi.O_CLOEXEC)) != 0
                || (flags & DmaBufUapi.O_ACCMODE) == DmaBufUapi.O_ACCMODE) {
            throw new Fail(Errno.EINVAL, "fd flags " + flags);
        }
        live(b);
        MFile f = new MFile(b, flags);
        MFile exported = new MFile(b, b.exportFlags);
        if ((f.readable() && !exported.readable()) || (f.writable() && !exported.writable())) {
            throw new Fail(Errno.EACCES, "more access than exported");
        }
        MHold h = c.holdings.get(b);
        if (h == null || h.refs == 0) {
            throw new Fail(Errno.EINVAL, c + " holds no reference to move into an fd");
        }
        int fd = install(c, f);
        h.refs--;
        return fd;
    }

    MBuf get(MBundle c, int fd) {
        open(c);
        MBuf b = file(c, fd).buf;
        live(b);
        b.refs++;
        hold(c, b).refs++;
        return b;
    }

    void get(MBundle c, MBuf b) {
        open(c);
        live(b);
        b.refs++;
        hold(c, b).refs++;
    }

    void put(MBundle c, MBuf b) {
        open(c);
        MHold h = c.holdings.get(b);
        if (h == null || h.refs == 0) {
            throw new Fail(Errno.EINVAL, c + " holds no reference to " + b);
        }
        h.refs--;
        dropRef(b);
    }

    int dup(MBundle c, int fd) {
        open(c);
        MFile f = file(c, fd);
        live(f.buf);
        int newFd = install(c, new MFile(f.buf, f.flags & DmaBufUapi.O_ACCMODE));
        f.buf.refs++;
        return newFd;
    }

    void close(MBundle c, int fd) {
        open(c);
        MFile f = file(c, fd);
        c.fds.remove(fd);
        dropRef(f.buf);
    }

    void revoke(MBundle c, MBuf b) {
        open(c);
        if (b.owner != c) {
            throw new Fail(Errno.EPERM, c + " does not own " + b);
        }
        if (b.state == BufState.RELEASED) {
            throw new Fail(Errno.EBADF, b + " is released");
        }
        revokeLive(b); // a second revoke changes nothing
    }

    void invalidateMappings(MBundle c, MBuf b) {
        open(c);
        if (b.owner != c) {
            throw new Fail(Errno.EPERM, c + " does not own " + b);
        }
        live(b);
        notifyImporters(b);
    }

    // ---- lifecycle internals ----------------------------------------------------------------------------------

    private void dropRef(MBuf b) {
        b.refs--;
        if (b.refs < 0) {
            throw new IllegalStateException("model bug: negative refs of " + b);
        }
        if (b.refs == 0) {
            b.state = BufState.RELEASED;
            teardown(b);
            for (MBundle c : bundles) {
                c.holdings.remove(b);
            }
        }
    }

    private static void notifyImporters(MBuf b) {
        for (MAtt a : b.linked) {
            if (a.dynamic && a.state == AttState.ATTACHED) {
                a.invalidations++;
            }
        }
    }

    private static void revokeLive(MBuf b) {
        if (b.state != BufState.LIVE) {
            return;
        }
        notifyImporters(b);
        b.state = BufState.REVOKED;
        teardown(b);
    }

    /** Detaches what is still linked, undoes the vmap, releases once. */
    private static void teardown(MBuf b) {
        List<MAtt> linked = new ArrayList<>(b.linked);
        b.linked.clear();
        long vmaps = b.vmapCount;
        b.vmapCount = 0;
        for (MAtt a : linked) {
            if (a.state == AttState.ATTACHED) {
                unmapAll(a);
                a.state = AttState.REVOKED;
                if (b.kind.hasOptionalOps()) {
                    b.call("detach");
                }
            }
        }
        if (vmaps > 0) {
            b.call("vunmap");
        }
        if (!b.releaseRan) {
            b.releaseRan = true;
            b.call("release");
        }
    }

    /** Each table unmapped with the direction it was mapped with; the core's pin dropped. */
    private static void unmapAll(MAtt a) {
        for (MTable t : a.tables) {
            a.buf.callWithDir("unmap", t.dir);
        }
        a.tables.clear();
        a.cached = null;
        if (a.corePinned) {
            a.buf.call("unpin");
            a.corePinned = false;
        }
    }

    // ---- attachments --------------------------------------------------------------------------------------------

    MAtt attach(MBundle c, MBuf b, boolean dynamic, boolean onePageDevice) {
        open(c);
        live(b);
        if (b.kind.hasOptionalOps()) {
            b.call("attach");
        }
        MAtt a = new MAtt(atts.size(), b, c, dynamic, onePageDevice);
        atts.add(a);
        if (b.kind == Kind.DYNAMIC && !dynamic) {
            b.call("pin");
            a.corePinned = true;
        }
        b.linked.add(a);
        c.atts.add(a);
        return a;
    }

    private static void own(MBundle c, MAtt a) {
        if (a.bundle != c) {
            throw new Fail(Errno.EINVAL, a + " belongs to " + a.bundle + ", not " + c);
        }
    }

    /** ATTACHED needs a live buffer; REVOKED (unlinked by the core) reports its buffer's state; DETACHED is EINVAL. */
    private static void checkLinked(MAtt a) {
        switch (a.state) {
            case ATTACHED -> live(a.buf);
            case REVOKED -> {
                if (a.buf.state == BufState.REVOKED) {
                    throw new Fail(Errno.ENODEV, a + " was revoked with its buffer");
                }
                throw new Fail(Errno.EBADF, a + " was unlinked when its buffer was released");
            }
            case DETACHED -> throw new Fail(Errno.EINVAL, a + " was detached");
        }
    }

    void detach(MBundle c, MAtt a) {
        open(c);
        own(c, a);
        boolean wasLinked;
        switch (a.state) {
            case DETACHED -> throw new Fail(Errno.EINVAL, a + " was already detached");
            case REVOKED -> wasLinked = false;
            default -> {
                unmapAll(a);
                a.buf.linked.remove(a);
                wasLinked = true;
            }
        }
        a.state = AttState.DETACHED;
        c.atts.remove(a);
        if (wasLinked && a.buf.kind.hasOptionalOps()) {
            a.buf.call("detach");
        }
    }

    MTable map(MBundle c, MAtt a, DmaDataDirection dir) {
        open(c);
        own(c, a);
        direction(dir);
        checkLinked(a);
        MBuf b = a.buf;
        if (a.cached != null) {
            if (a.cached.dir == dir || a.cached.dir == DmaDataDirection.BIDIRECTIONAL) {
                return a.cached;
            }
            throw new Fail(Errno.EBUSY, a + " has a cached table mapped " + a.cached.dir);
        }
        b.callWithDir("map", dir);
        if (a.onePageDevice && alignedSize(b) > DmaBufUapi.PAGE_SIZE) {
            // the exporter's one-segment table has a segment longer than the device takes: unmapped again, EIO
            b.callWithDir("unmap", dir);
            throw new Fail(Errno.EIO, "a segment of " + alignedSize(b) + " bytes for a one-page device");
        }
        MTable t = new MTable(tables.size(), a, dir);
        tables.add(t);
        a.tables.add(t);
        if (b.kind == Kind.CACHING) {
            a.cached = t;
        }
        return t;
    }

    /** @param t the table passed, or null for one the core never returned */
    void unmap(MBundle c, MAtt a, MTable t, DmaDataDirection dir) {
        open(c);
        own(c, a);
        direction(dir);
        if (a.state == AttState.REVOKED) {
            return; // already unmapped by the core at revoke/release
        }
        checkLinked(a);
        if (a.cached != null && a.cached == t) {
            return; // the cached table stays mapped until detach
        }
        int index = t == null ? -1 : indexOfIdentity(a.tables, t);
        if (index < 0) {
            throw new Fail(Errno.EINVAL, "the table is not mapped for " + a);
        }
        a.buf.callWithDir("unmap", dir);
        a.tables.remove(index);
    }

    private static int indexOfIdentity(List<MTable> list, MTable t) {
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) == t) {
                return i;
            }
        }
        return -1;
    }

    static long alignedSize(MBuf b) {
        return (b.size + DmaBufUapi.PAGE_SIZE - 1) & -DmaBufUapi.PAGE_SIZE;
    }

    // ---- CPU access ---------------------------------------------------------------------------------------------

    void begin(MBundle c, MBuf b, DmaDataDirection dir, long offset, long length) {
        open(c);
        direction(dir);
        if (offset < 0 || length <= 0 || offset > b.size - length) {
            throw new Fail(Errno.EINVAL, "range [" + offset + ", +" + length + ") is not within " + b.size);
        }
        live(b);
        if (b.kind.hasOptionalOps()) {
            b.callWithRange("begin", dir, offset, length);
        }
        hold(c, b).brackets.add(new Bracket(dir, offset, length));
    }

    void end(MBundle c, MBuf b, DmaDataDirection dir, long offset, long length) {
        open(c);
        direction(dir);
        MHold h = c.holdings.get(b);
        if (h == null || !h.brackets.remove(new Bracket(dir, offset, length))) {
            throw new Fail(Errno.EINVAL, "no matching bracket " + dir + " [" + offset + ", +" + length + ")");
        }
        if (b.state != BufState.LIVE) {
            return; // revoked: nothing left to flush
        }
        if (b.kind.hasOptionalOps()) {
            b.callWithRange("end", dir, offset, length);
        }
    }

    void sync(MBundle c, int fd, long flags) {
        open(c);
        MFile f = file(c, fd);
        if ((flags & ~DmaBufUapi.DMA_BUF_SYNC_VALID_FLAGS_MASK) != 0) {
            throw new Fail(Errno.EINVAL, "SYNC flags " + flags);
        }
        long rw = flags & DmaBufUapi.DMA_BUF_SYNC_RW;
        if (rw == 0) {
            throw new Fail(Errno.EINVAL, "SYNC flags " + flags + " set neither READ nor WRITE");
        }
        DmaDataDirection dir = rw == DmaBufUapi.DMA_BUF_SYNC_READ ? DmaDataDirection.FROM_DEVICE
                : rw == DmaBufUapi.DMA_BUF_SYNC_WRITE ? DmaDataDirection.TO_DEVICE : DmaDataDirection.BIDIRECTIONAL;
        if ((flags & DmaBufUapi.DMA_BUF_SYNC_END) != 0) {
            end(c, f.buf, dir, 0, f.buf.size);
        } else {
            begin(c, f.buf, dir, 0, f.buf.size);
        }
    }

    /**
     * The thread's atomic kmaps are those someone can still undo: an entry of another bundle that went away (its
     * holding was drained) or of a released buffer (every holding of it forgotten) no longer counts against the limit
     * and no longer blocks the LIFO order. A revoked buffer's entry stays: its bundle still holds the kmap and undoes
     * it with kunmapAtomic (a cleanup call, which succeeds on a revoked buffer).
     */
    private void pruneAtomics(MBundle caller) {
        atomics.removeIf(k -> (k.bundle != caller && k.bundle.closed) || k.buf.state == BufState.RELEASED);
    }

    void kmap(MBundle c, MBuf b, long page, boolean atomic) {
        open(c);
        live(b);
        if (page < 0 || page >= b.pageCount()) {
            throw new Fail(Errno.EINVAL, "page " + page + " of " + b.pageCount());
        }
        long pageOffset = page << DmaBufUapi.PAGE_SHIFT;
        long pageLength = Math.min(DmaBufUapi.PAGE_SIZE, b.size - pageOffset);
        MHold h = c.holdings.get(b);
        if (h == null || h.brackets.stream().noneMatch(br -> br.overlaps(pageOffset, pageLength))) {
            throw new Fail(Errno.EINVAL, "page " + page + " is outside every bracket of " + c);
        }
        if (!b.kind.hasOptionalOps()) {
            throw new Fail(Errno.EINVAL, "the exporter has no kmap");
        }
        if (atomic) {
            pruneAtomics(c);
            if (atomics.size() >= 2) {
                throw new Fail(Errno.EBUSY, "the thread holds " + atomics.size() + " atomic kmaps");
            }
        }
        b.call(atomic ? "kmapAtomic" : "kmap");
        h.kmaps.add(new MKmap(page, atomic));
        if (atomic) {
            atomics.push(new Atomic(c, b, page));
        }
    }

    void kunmap(MBundle c, MBuf b, long page, Seg seg, boolean atomic) {
        open(c);
        long pageOffset = page << DmaBufUapi.PAGE_SHIFT;
        if (atomic) {
            pruneAtomics(c);
            Atomic top = atomics.peek();
            if (top == null || top.bundle != c || top.buf != b || top.page != page
                    || !seg.sameAddress(top.buf, top.page << DmaBufUapi.PAGE_SHIFT)) {
                throw new Fail(Errno.EINVAL, "not the thread's most recent kmapAtomic: " + top);
            }
        }
        MHold h = c.holdings.get(b);
        MKmap found = null;
        if (h != null && seg.sameAddress(b, pageOffset)) {
            for (Iterator<MKmap> it = h.kmaps.iterator(); it.hasNext();) {
                MKmap k = it.next();
                if (k.page == page && k.atomic == atomic) {
                    found = k;
                    it.remove();
                    break;
                }
            }
        }
        if (found == null) {
            throw new Fail(Errno.EINVAL, "page " + page + " is not kmapped by " + c + " with this segment");
        }
        if (atomic) {
            atomics.pop();
        }
        if (b.state == BufState.LIVE) {
            b.call(atomic ? "kunmapAtomic" : "kunmap");
        }
    }

    void vmap(MBundle c, MBuf b) {
        open(c);
        if (!b.kind.hasOptionalOps()) {
            throw new Fail(Errno.EINVAL, "the exporter has no vmap");
        }
        live(b);
        if (b.vmapCount == 0) {
            b.call("vmap");
        }
        b.vmapCount++;
        hold(c, b).vmaps++;
    }

    void vunmap(MBundle c, MBuf b, Seg seg) {
        open(c);
        MHold h = c.holdings.get(b);
        if (h == null || h.vmaps == 0) {
            throw new Fail(Errno.EINVAL, c + " holds no vmap of " + b);
        }
        if (b.state != BufState.LIVE) {
            h.vmaps--; // torn down at revoke
            return;
        }
        if (b.vmapCount == 0 || !seg.sameView(b, 0, b.size)) {
            throw new Fail(Errno.EINVAL, "not the vmap of " + b);
        }
        h.vmaps--;
        b.vmapCount--;
        if (b.vmapCount == 0) {
            b.call("vunmap");
        }
    }

    // ---- mmap -------------------------------------------------------------------------------------------------

    MMapping mmap(MBundle c, int fd, long offset, long length, int prot) {
        open(c);
        MFile f = file(c, fd);
        if ((prot & ~(DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE)) != 0 || prot == 0) {
            throw new Fail(Errno.EINVAL, "prot " + prot);
        }
        if ((prot & DmaBufUapi.PROT_READ) == 0) {
            throw new Fail(Errno.EINVAL, "PROT_WRITE without PROT_READ");
        }
        if (!f.readable()) {
            throw new Fail(Errno.EACCES, "a write-only fd");
        }
        if ((prot & DmaBufUapi.PROT_WRITE) != 0 && !f.writable()) {
            throw new Fail(Errno.EACCES, "PROT_WRITE on an fd without write access");
        }
        if ((offset & (DmaBufUapi.PAGE_SIZE - 1)) != 0) {
            throw new Fail(Errno.EINVAL, "offset " + offset + " is not page aligned");
        }
        if (length <= 0) {
            throw new Fail(Errno.EINVAL, "length " + length);
        }
        long rounded = (length + DmaBufUapi.PAGE_SIZE - 1) & -DmaBufUapi.PAGE_SIZE;
        if (Long.compareUnsigned(rounded, length) < 0 || Long.compareUnsigned(offset + rounded, offset) < 0) {
            throw new Fail(Errno.EOVERFLOW, "offset + length wraps around");
        }
        long pageOffset = offset >>> DmaBufUapi.PAGE_SHIFT;
        long end = pageOffset + (rounded >>> DmaBufUapi.PAGE_SHIFT);
        if (Long.compareUnsigned(end, pageOffset) < 0) {
            throw new Fail(Errno.EOVERFLOW, "the page range wraps around");
        }
        MBuf b = f.buf;
        if (Long.compareUnsigned(end, b.size >>> DmaBufUapi.PAGE_SHIFT) > 0) {
            throw new Fail(Errno.EINVAL, "past the last whole page");
        }
        if (!b.kind.hasOptionalOps()) {
            throw new Fail(Errno.EINVAL, "the exporter has no mmap");
        }
        live(b);
        b.call("mmap");
        b.refs++;
        MMapping m = new MMapping(mappings.size(), b, c, offset, rounded, prot);
        mappings.add(m);
        c.mmaps.add(m);
        return m;
    }

    void closeMapping(MMapping m) {
        if (!m.open) {
            return; // closing twice does nothing
        }
        m.open = false;
        m.bundle.mmaps.remove(m);
        dropRef(m.buf);
    }

    // ---- fd interface -----------------------------------------------------------------------------------------

    long llseek(MBundle c, int fd, long offset, int whence) {
        open(c);
        MBuf b = file(c, fd).buf;
        if (offset == 0 && whence == DmaBufUapi.SEEK_END) {
            return b.size;
        }
        if (offset == 0 && whence == DmaBufUapi.SEEK_SET) {
            return 0;
        }
        throw new Fail(Errno.EINVAL, "llseek(" + offset + ", " + whence + ")");
    }

    void setName(MBundle c, int fd, String name) {
        open(c);
        MBuf b = file(c, fd).buf;
        String checked = checkName(name);
        live(b);
        b.name = checked;
    }

    // ---- bundle death -------------------------------------------------------------------------------------------

    private void leak(String kind) {
        leaks.merge(kind, 1, Integer::sum);
        leakTotal++;
    }

    /** core.closeClient: revoke what it exported, then reclaim (and report once) everything it still held. */
    void closeBundle(MBundle c) {
        if (c.closed) {
            return;
        }
        c.closed = true;
        for (MBuf b : bufs) {
            if (b.owner == c && b.state != BufState.RELEASED) {
                revokeLive(b);
            }
        }
        record Drained(MBuf buf, MHold hold) {
        }
        List<Drained> held = new ArrayList<>();
        for (Map.Entry<MBuf, MHold> e : c.holdings.entrySet()) {
            MHold h = e.getValue();
            MHold copy = new MHold();
            copy.refs = h.refs;
            copy.vmaps = h.vmaps;
            copy.brackets.addAll(h.brackets);
            copy.kmaps.addAll(h.kmaps);
            h.refs = 0;
            h.vmaps = 0;
            h.brackets.clear();
            h.kmaps.clear();
            held.add(new Drained(e.getKey(), copy));
        }
        for (Drained d : held) {
            MBuf b = d.buf;
            for (MKmap k : d.hold.kmaps) {
                leak(LeakDTO.KIND_KMAP);
                if (b.state == BufState.LIVE) {
                    b.call(k.atomic ? "kunmapAtomic" : "kunmap");
                }
            }
            for (Bracket br : d.hold.brackets) {
                leak(LeakDTO.KIND_CPU_ACCESS);
                if (b.state == BufState.LIVE && b.kind.hasOptionalOps()) {
                    b.callWithRange("end", br.dir, br.offset, br.length);
                }
            }
            if (d.hold.vmaps > 0) {
                leak(LeakDTO.KIND_VMAP);
                for (long i = 0; i < d.hold.vmaps && b.state == BufState.LIVE && b.vmapCount > 0; i++) {
                    b.vmapCount--;
                    if (b.vmapCount == 0) {
                        b.call("vunmap");
                    }
                }
            }
        }
        for (MAtt a : new ArrayList<>(c.atts)) {
            leak(LeakDTO.KIND_ATTACHMENT);
            if (!a.tables.isEmpty()) {
                leak(LeakDTO.KIND_MAPPING);
            }
            boolean wasLinked = a.state == AttState.ATTACHED;
            if (wasLinked) {
                unmapAll(a);
                a.buf.linked.remove(a);
            }
            a.state = AttState.DETACHED;
            c.atts.remove(a);
            if (wasLinked && a.buf.kind.hasOptionalOps()) {
                a.buf.call("detach");
            }
        }
        for (MMapping m : new ArrayList<>(c.mmaps)) {
            leak(LeakDTO.KIND_MMAP);
            closeMapping(m);
        }
        for (int fd : new ArrayList<>(c.fds.keySet())) {
            leak(LeakDTO.KIND_FD);
            MFile f = c.fds.remove(fd);
            dropRef(f.buf);
        }
        for (Drained d : held) {
            if (d.hold.refs > 0) {
                leak(LeakDTO.KIND_REFERENCE);
                for (long i = 0; i < d.hold.refs; i++) {
                    dropRef(d.buf);
                }
            }
        }
        c.holdings.clear();
    }

    // ---- the model's own invariants -----------------------------------------------------------------------------

    /** References add up (holdings + fds + mappings), nothing is negative, vmaps add up for live buffers. */
    void checkSelf() {
        for (MBuf b : bufs) {
            long refs = 0;
            long vmaps = 0;
            for (MBundle c : bundles) {
                MHold h = c.holdings.get(b);
                if (h != null) {
                    check(h.refs >= 0 && h.vmaps >= 0, "negative holding of " + b);
                    refs += h.refs;
                    vmaps += h.vmaps;
                }
                for (MFile f : c.fds.values()) {
                    if (f.buf == b) {
                        refs++;
                    }
                }
                for (MMapping m : c.mmaps) {
                    if (m.buf == b) {
                        refs++;
                    }
                }
            }
            check(b.refs == refs, "refs of " + b + ": " + b.refs + " != " + refs);
            check(b.refs >= 0 && b.vmapCount >= 0, "negative count of " + b);
            check((b.state == BufState.RELEASED) == (b.refs == 0), "state of " + b + " vs refs " + b.refs);
            check(b.state == BufState.LIVE ? b.vmapCount == vmaps : b.vmapCount == 0, "vmaps of " + b);
            check(b.releaseRan == (b.state != BufState.LIVE), "release of " + b);
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("model bug: " + what);
        }
    }

    /** The number of buffers whose release ran. */
    long releasedCount() {
        return bufs.stream().filter(b -> b.releaseRan).count();
    }
}
