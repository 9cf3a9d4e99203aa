package dmabuf.core.model;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * One operation of a sequence. Its parameters are small selectors (a bundle index, an index into what exists, an
 * index into a list of interesting values) that shrink towards the plain, valid choice (0), and an operation means
 * something whatever ran before it, so shrinking can drop any operation of a sequence.
 */
sealed interface Op {

    void apply(World w);

    // ---- interesting values; the first of each list is the plain valid one ----------------------------------------

    long[] SIZES = {4096, 1, 100, 4095, 4097, 8192, 10000, 12288, 16385, 0, -1};
    int[] SIZE_WEIGHTS = {4, 2, 2, 2, 2, 3, 2, 2, 2, 1, 1};
    int[] EXPORT_FLAGS = {DmaBufUapi.O_RDWR, DmaBufUapi.O_RDONLY, DmaBufUapi.O_WRONLY, DmaBufUapi.O_ACCMODE,
        DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC};
    int[] EXPORT_FLAG_WEIGHTS = {10, 2, 2, 1, 1};
    String[] EXPORTERS = {null, Model.EXPORTER_SERVICE, "svc.nobody"};
    int[] EXPORTER_WEIGHTS = {10, 2, 1};
    String[] EXPORT_NAMES = {null, "cam0", "n".repeat(32)};
    int[] EXPORT_NAME_WEIGHTS = {10, 2, 1};
    Model.Kind[] KINDS = Model.Kind.values();
    int[] KIND_WEIGHTS = {4, 1, 2, 2};
    int[] FD_FLAGS = {DmaBufUapi.O_RDWR, DmaBufUapi.O_RDONLY, DmaBufUapi.O_WRONLY,
        DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, DmaBufUapi.O_RDONLY | DmaBufUapi.O_CLOEXEC, DmaBufUapi.O_ACCMODE,
        0x40 /* O_CREAT */, -1};
    int[] FD_FLAG_WEIGHTS = {10, 2, 2, 2, 1, 1, 1, 1};
    DmaDataDirection[] DIRECTIONS = {DmaDataDirection.BIDIRECTIONAL, DmaDataDirection.TO_DEVICE,
        DmaDataDirection.FROM_DEVICE, DmaDataDirection.NONE};
    int[] DIRECTION_WEIGHTS = {5, 4, 4, 1};
    int[] RANGE_WEIGHTS = {8, 2, 2, 2, 2, 2, 1, 1, 1, 1};
    long[] SYNC_FLAGS = {DmaBufUapi.DMA_BUF_SYNC_RW, DmaBufUapi.DMA_BUF_SYNC_RW | DmaBufUapi.DMA_BUF_SYNC_END,
        DmaBufUapi.DMA_BUF_SYNC_READ, DmaBufUapi.DMA_BUF_SYNC_READ | DmaBufUapi.DMA_BUF_SYNC_END,
        DmaBufUapi.DMA_BUF_SYNC_WRITE, DmaBufUapi.DMA_BUF_SYNC_WRITE | DmaBufUapi.DMA_BUF_SYNC_END, 0,
        DmaBufUapi.DMA_BUF_SYNC_END, 8, -1, 0x10};
    int[] SYNC_WEIGHTS = {4, 4, 2, 2, 2, 2, 1, 1, 1, 1, 1};
    long[] MMAP_OFFSETS = {0, 4096, 8192, 12288, 1, 4095, -4096};
    int[] MMAP_OFFSET_WEIGHTS = {8, 3, 2, 1, 1, 1, 1};
    long[] MMAP_LENGTHS = {4096, 1, 4097, 8192, 12288, 16384, 0, -1, Long.MAX_VALUE};
    int[] MMAP_LENGTH_WEIGHTS = {8, 2, 2, 2, 1, 1, 1, 1, 1};
    int[] PROTS = {DmaBufUapi.PROT_READ, DmaBufUapi.PROT_READ | DmaBufUapi.PROT_WRITE, DmaBufUapi.PROT_WRITE, 0, 4, 7};
    int[] PROT_WEIGHTS = {8, 8, 1, 1, 1, 1};
    long[] SEEK_OFFSETS = {0, 1, -1};
    int[] SEEK_OFFSET_WEIGHTS = {6, 1, 1};
    int[] WHENCES = {DmaBufUapi.SEEK_END, DmaBufUapi.SEEK_SET, DmaBufUapi.SEEK_CUR, DmaBufUapi.SEEK_DATA,
        DmaBufUapi.SEEK_HOLE, 99};
    int[] WHENCE_WEIGHTS = {4, 4, 1, 1, 1, 1};
    String[] NAMES = {"cam", "", null, "a".repeat(31), "a".repeat(32), "ok\0" + "x".repeat(40), "€".repeat(10),
        "€".repeat(11), "é".repeat(16), "日本語"};
    int[] NAME_WEIGHTS = {4, 1, 1, 2, 2, 1, 1, 1, 1, 1};

    // ---- generators ---------------------------------------------------------------------------------------------

    /** An index into a list of values, by weight, shrinking towards 0. */
    static Arbitrary<Integer> pick(int[] weights) {
        List<Tuple.Tuple2<Integer, Integer>> choices = new ArrayList<>();
        for (int i = 0; i < weights.length; i++) {
            choices.add(Tuple.of(weights[i], i));
        }
        return Arbitraries.frequency(choices);
    }

    static Arbitrary<Integer> bundle() {
        return Arbitraries.integers().between(0, 2);
    }

    /** -1 (the object's owner, or a bundle that holds what the operation needs) mostly, else a bundle. */
    static Arbitrary<Integer> anyOrBundle() {
        return Arbitraries.frequency(Tuple.of(10, -1), Tuple.of(1, 0), Tuple.of(1, 1), Tuple.of(1, 2));
    }

    /** Which of the objects that exist (modulo their number): 0..15 among the usable ones, 16.. among all. */
    static Arbitrary<Integer> sel() {
        return Arbitraries.frequency(Tuple.of(12, 0), Tuple.of(8, 1), Tuple.of(6, 2), Tuple.of(4, 3), Tuple.of(2, 4),
                Tuple.of(1, 5), Tuple.of(1, 16), Tuple.of(1, 17), Tuple.of(1, 18));
    }

    /** Which fd: k >= 0 the k-th open one; -1 fd -1, -2 above the limit, -3 the lowest one not open. */
    static Arbitrary<Integer> fd() {
        return Arbitraries.frequency(Tuple.of(8, 0), Tuple.of(5, 1), Tuple.of(4, 2), Tuple.of(3, 3), Tuple.of(1, -1),
                Tuple.of(1, -2), Tuple.of(2, -3));
    }

    static Arbitrary<Boolean> rarely() {
        return Arbitraries.frequency(Tuple.of(3, false), Tuple.of(1, true));
    }

    /** Something was exported. */
    Predicate<World> BUFFERS = w -> !w.model.bufs.isEmpty();
    /** Something was attached. */
    Predicate<World> ATTACHMENTS = w -> !w.model.atts.isEmpty();
    /** Some bundle has an fd open (the fd selectors still reach fds that are not). */
    Predicate<World> FDS = w -> w.model.bundles.stream().anyMatch(c -> !c.fds.isEmpty());
    Predicate<World> KMAPS = w -> !w.kmaps.isEmpty();
    Predicate<World> MAPPINGS = w -> !w.model.mappings.isEmpty();
    Predicate<World> ALWAYS = w -> true;

    /**
     * Every operation with its weight and precondition: an operation is picked only when there is something for it
     * to work on (what it then picks may still be wrong: released, detached, another bundle's, ...).
     */
    static List<Tuple.Tuple3<Integer, Predicate<World>, Arbitrary<? extends Op>>> all() {
        return List.of(
                Tuple.of(14, ALWAYS, Combinators.combine(bundle(), pick(SIZE_WEIGHTS), pick(EXPORT_FLAG_WEIGHTS),
                        pick(KIND_WEIGHTS), pick(EXPORTER_WEIGHTS), pick(EXPORT_NAME_WEIGHTS)).as(Export::new)),
                Tuple.of(10, BUFFERS, Combinators.combine(anyOrBundle(), sel(), pick(FD_FLAG_WEIGHTS)).as(Fd::new)),
                Tuple.of(4, FDS, Combinators.combine(anyOrBundle(), fd()).as(Dup::new)),
                Tuple.of(6, FDS, Combinators.combine(anyOrBundle(), fd()).as(Close::new)),
                Tuple.of(4, FDS, Combinators.combine(anyOrBundle(), fd()).as(GetFd::new)),
                Tuple.of(8, BUFFERS, Combinators.combine(bundle(), sel()).as(GetBuf::new)),
                Tuple.of(6, BUFFERS, Combinators.combine(anyOrBundle(), sel()).as(Put::new)),
                Tuple.of(8, BUFFERS, Combinators.combine(bundle(), sel(), rarely(), rarely()).as(Attach::new)),
                Tuple.of(4, ATTACHMENTS, Combinators.combine(anyOrBundle(), sel()).as(Detach::new)),
                Tuple.of(8, ATTACHMENTS, Combinators.combine(anyOrBundle(), sel(), pick(DIRECTION_WEIGHTS))
                        .as(MapAtt::new)),
                Tuple.of(6, ATTACHMENTS, Combinators.combine(anyOrBundle(), Arbitraries.frequency(Tuple.of(10, -1),
                        Tuple.of(1, 0), Tuple.of(1, 1)), Arbitraries.frequency(Tuple.of(10, 0), Tuple.of(3, 1),
                                Tuple.of(1, 2), Tuple.of(1, 16), Tuple.of(1, 17), Tuple.of(1, -1)),
                        pick(DIRECTION_WEIGHTS)).as(UnmapAtt::new)),
                Tuple.of(8, BUFFERS, Combinators.combine(bundle(), sel(), pick(DIRECTION_WEIGHTS),
                        pick(RANGE_WEIGHTS)).as(Begin::new)),
                Tuple.of(8, BUFFERS, Combinators.combine(anyOrBundle(), sel(), Arbitraries.frequency(Tuple.of(10, 0),
                        Tuple.of(2, 1), Tuple.of(4, -1)), pick(DIRECTION_WEIGHTS), pick(RANGE_WEIGHTS))
                        .as(End::new)),
                Tuple.of(8, BUFFERS, Combinators.combine(anyOrBundle(), sel(), Arbitraries.frequency(
                        Tuple.of(8, 0L), Tuple.of(4, 1L), Tuple.of(3, 2L), Tuple.of(2, 3L), Tuple.of(1, 4L),
                        Tuple.of(1, 5L), Tuple.of(1, -1L)), rarely()).as(Kmap::new)),
                Tuple.of(8, KMAPS, Combinators.combine(anyOrBundle(), sel(), Arbitraries.frequency(Tuple.of(12, 0),
                        Tuple.of(1, 1), Tuple.of(1, 2), Tuple.of(1, 3), Tuple.of(1, 4))).as(Kunmap::new)),
                Tuple.of(4, BUFFERS, Combinators.combine(bundle(), sel()).as(Vmap::new)),
                Tuple.of(4, BUFFERS, Combinators.combine(anyOrBundle(), sel(), Arbitraries.frequency(
                        Tuple.of(10, 0), Tuple.of(1, 1), Tuple.of(1, 2)), Arbitraries.integers().between(0, 15))
                        .as(Vunmap::new)),
                Tuple.of(6, FDS, Combinators.combine(anyOrBundle(), fd(), pick(MMAP_OFFSET_WEIGHTS),
                        pick(MMAP_LENGTH_WEIGHTS), pick(PROT_WEIGHTS)).as(Mmap::new)),
                Tuple.of(4, MAPPINGS, sel().map(MappingClose::new)),
                Tuple.of(4, FDS, Combinators.combine(anyOrBundle(), fd(), pick(SYNC_WEIGHTS)).as(Sync::new)),
                Tuple.of(2, FDS, Combinators.combine(anyOrBundle(), fd(), pick(SEEK_OFFSET_WEIGHTS),
                        pick(WHENCE_WEIGHTS)).as(Llseek::new)),
                Tuple.of(2, FDS, Combinators.combine(anyOrBundle(), fd(), pick(NAME_WEIGHTS)).as(SetName::new)),
                Tuple.of(2, BUFFERS, Combinators.combine(anyOrBundle(), sel()).as(Revoke::new)),
                Tuple.of(2, BUFFERS, Combinators.combine(anyOrBundle(), sel()).as(Invalidate::new)),
                Tuple.of(1, ALWAYS, bundle().map(BundleStop::new)));
    }

    /** -1: the owner of the object, or any bundle that holds what the operation needs. */
    private static String who(int bundle) {
        return bundle < 0 ? "b*" : "b" + bundle;
    }

    // ---- the operations -----------------------------------------------------------------------------------------

    record Export(int bundle, int size, int flags, int kind, int exporter, int name) implements Op {
        @Override
        public void apply(World w) {
            w.export(bundle, SIZES[size], EXPORT_FLAGS[flags], KINDS[kind], EXPORTERS[exporter], EXPORT_NAMES[name]);
        }

        @Override
        public String toString() {
            return "b" + bundle + ".export(size " + SIZES[size] + ", flags " + EXPORT_FLAGS[flags] + ", " + KINDS[kind]
                    + (EXPORTERS[exporter] == null ? "" : ", exporter " + EXPORTERS[exporter])
                    + (EXPORT_NAMES[name] == null ? "" : ", name " + EXPORT_NAMES[name]) + ")";
        }
    }

    record Fd(int bundle, int buf, int flags) implements Op {
        @Override
        public void apply(World w) {
            w.fd(bundle, buf, FD_FLAGS[flags]);
        }

        @Override
        public String toString() {
            return who(bundle) + ".fd(buf~" + buf + ", flags " + FD_FLAGS[flags] + ")";
        }
    }

    record Dup(int bundle, int fd) implements Op {
        @Override
        public void apply(World w) {
            w.dup(bundle, fd);
        }

        @Override
        public String toString() {
            return who(bundle) + ".dup(fd~" + fd + ")";
        }
    }

    record Close(int bundle, int fd) implements Op {
        @Override
        public void apply(World w) {
            w.close(bundle, fd);
        }

        @Override
        public String toString() {
            return who(bundle) + ".close(fd~" + fd + ")";
        }
    }

    record GetFd(int bundle, int fd) implements Op {
        @Override
        public void apply(World w) {
            w.getFd(bundle, fd);
        }

        @Override
        public String toString() {
            return who(bundle) + ".get(fd~" + fd + ")";
        }
    }

    record GetBuf(int bundle, int buf) implements Op {
        @Override
        public void apply(World w) {
            w.getBuf(bundle, buf);
        }

        @Override
        public String toString() {
            return "b" + bundle + ".get(buf~" + buf + ")";
        }
    }

    record Put(int bundle, int buf) implements Op {
        @Override
        public void apply(World w) {
            w.put(bundle, buf);
        }

        @Override
        public String toString() {
            return who(bundle) + ".put(buf~" + buf + ")";
        }
    }

    record Attach(int bundle, int buf, boolean dynamic, boolean onePageDevice) implements Op {
        @Override
        public void apply(World w) {
            w.attach(bundle, buf, dynamic, onePageDevice);
        }

        @Override
        public String toString() {
            return "b" + bundle + "." + (dynamic ? "dynamicAttach" : "attach") + "(buf~" + buf + ", "
                    + (onePageDevice ? "one-page device" : "gpu") + ")";
        }
    }

    record Detach(int bundle, int att) implements Op {
        @Override
        public void apply(World w) {
            w.detach(bundle, att);
        }

        @Override
        public String toString() {
            return who(bundle) + ".detach(att~" + att + ")";
        }
    }

    record MapAtt(int bundle, int att, int dir) implements Op {
        @Override
        public void apply(World w) {
            w.map(bundle, att, DIRECTIONS[dir]);
        }

        @Override
        public String toString() {
            return who(bundle) + ".mapAttachment(att~" + att + ", " + DIRECTIONS[dir] + ")";
        }
    }

    /** {@code att} -1: the table's own attachment; {@code table} counted from the newest, -1: a foreign table. */
    record UnmapAtt(int bundle, int att, int table, int dir) implements Op {
        @Override
        public void apply(World w) {
            w.unmap(bundle, att, table, DIRECTIONS[dir]);
        }

        @Override
        public String toString() {
            return who(bundle) + ".unmapAttachment(" + (att < 0 ? "its att" : "att~" + att) + ", "
                    + (table < 0 ? "foreign table" : "table~" + table) + ", " + DIRECTIONS[dir] + ")";
        }
    }

    record Begin(int bundle, int buf, int dir, int range) implements Op {
        @Override
        public void apply(World w) {
            w.begin(bundle, buf, DIRECTIONS[dir], range);
        }

        @Override
        public String toString() {
            return "b" + bundle + ".beginCpuAccess(buf~" + buf + ", " + DIRECTIONS[dir] + ", range~" + range + ")";
        }
    }

    /** bracket >= 0: one of the bundle's open brackets (counted from the newest), -1: dir and range as given. */
    record End(int bundle, int buf, int bracket, int dir, int range) implements Op {
        @Override
        public void apply(World w) {
            w.end(bundle, buf, bracket, DIRECTIONS[dir], range);
        }

        @Override
        public String toString() {
            return who(bundle) + ".endCpuAccess(buf~" + buf + ", " + (bracket >= 0 ? "open bracket~" + bracket
                    : DIRECTIONS[dir] + ", range~" + range) + ")";
        }
    }

    record Kmap(int bundle, int buf, long page, boolean atomic) implements Op {
        @Override
        public void apply(World w) {
            w.kmap(bundle, buf, page, atomic);
        }

        @Override
        public String toString() {
            return who(bundle) + "." + (atomic ? "kmapAtomic" : "kmap") + "(buf~" + buf + ", page " + page + ")";
        }
    }

    /** kmap counted from the newest; variant 0 as mapped, 1 next page, 2 the other unmap, 3 another view, 4 foreign. */
    record Kunmap(int bundle, int kmap, int variant) implements Op {
        @Override
        public void apply(World w) {
            w.kunmap(bundle, kmap, variant);
        }

        @Override
        public String toString() {
            return who(bundle) + ".kunmap(kmap~" + kmap + ", variant " + variant + ")";
        }
    }

    record Vmap(int bundle, int buf) implements Op {
        @Override
        public void apply(World w) {
            w.vmap(bundle, buf);
        }

        @Override
        public String toString() {
            return "b" + bundle + ".vmap(buf~" + buf + ")";
        }
    }

    /** variant: 0 the buffer's vmap view, 1 any view (counted from the newest), 2 foreign. */
    record Vunmap(int bundle, int buf, int variant, int seg) implements Op {
        @Override
        public void apply(World w) {
            w.vunmap(bundle, buf, variant, seg);
        }

        @Override
        public String toString() {
            return who(bundle) + ".vunmap(buf~" + buf + ", variant " + variant + (variant == 1 ? ", view~" + seg : "")
                    + ")";
        }
    }

    record Mmap(int bundle, int fd, int offset, int length, int prot) implements Op {
        @Override
        public void apply(World w) {
            w.mmap(bundle, fd, MMAP_OFFSETS[offset], MMAP_LENGTHS[length], PROTS[prot]);
        }

        @Override
        public String toString() {
            return who(bundle) + ".mmap(fd~" + fd + ", offset " + MMAP_OFFSETS[offset] + ", length "
                    + MMAP_LENGTHS[length] + ", prot " + PROTS[prot] + ")";
        }
    }

    /** mapping counted from the newest. */
    record MappingClose(int mapping) implements Op {
        @Override
        public void apply(World w) {
            w.closeMapping(mapping);
        }

        @Override
        public String toString() {
            return "mapping~" + mapping + ".close()";
        }
    }

    record Sync(int bundle, int fd, int flags) implements Op {
        @Override
        public void apply(World w) {
            w.sync(bundle, fd, SYNC_FLAGS[flags]);
        }

        @Override
        public String toString() {
            return who(bundle) + ".sync(fd~" + fd + ", flags " + SYNC_FLAGS[flags] + ")";
        }
    }

    record Llseek(int bundle, int fd, int offset, int whence) implements Op {
        @Override
        public void apply(World w) {
            w.llseek(bundle, fd, SEEK_OFFSETS[offset], WHENCES[whence]);
        }

        @Override
        public String toString() {
            return who(bundle) + ".llseek(fd~" + fd + ", " + SEEK_OFFSETS[offset] + ", whence " + WHENCES[whence]
                    + ")";
        }
    }

    record SetName(int bundle, int fd, int name) implements Op {
        @Override
        public void apply(World w) {
            w.setName(bundle, fd, NAMES[name]);
        }

        @Override
        public String toString() {
            String n = NAMES[name];
            return who(bundle) + ".setName(fd~" + fd + ", " + (n == null ? "null" : "'" + n.replace("\0", "\\0")
                    + "'") + ")";
        }
    }

    record Revoke(int bundle, int buf) implements Op {
        @Override
        public void apply(World w) {
            w.revoke(bundle, buf);
        }

        @Override
        public String toString() {
            return who(bundle) + ".revoke(buf~" + buf + ")";
        }
    }

    record Invalidate(int bundle, int buf) implements Op {
        @Override
        public void apply(World w) {
            w.invalidateMappings(bundle, buf);
        }

        @Override
        public String toString() {
            return who(bundle) + ".invalidateMappings(buf~" + buf + ")";
        }
    }

    record BundleStop(int bundle) implements Op {
        @Override
        public void apply(World w) {
            w.closeBundle(bundle);
        }

        @Override
        public String toString() {
            return "stop b" + bundle;
        }
    }
}
