package dmabuf.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dmabuf.api.runtime.LeakDTO;

/**
 * Sequences of the model-based test written down: the minimal sequences it found, replayed on every build (a random
 * run of {@link CoreModelTest} reaches some of them only rarely), and one that puts bundle death under the model with
 * one item of every kind held. Every step runs through {@link World#run}, so the model predicts each outcome and the
 * whole observable state is compared after each step, as in the property.
 */
class CoreModelScenarioTest {
    private World w;

    @BeforeEach
    void freshWorld() {
        w = World.create();
    }

    @AfterAll
    static void retire() {
        World.retirePrevious();
    }

    /** Runs the operation built from the current state (selectors of existing objects depend on it). */
    private void step(Function<World, Op> op) {
        w.run(op.apply(w));
    }

    /** A buffer selector that picks the i-th buffer exported, released or not. */
    private static int buf(World w, int i) {
        return 16 * w.model.bufs.size() + i;
    }

    /** A kmap selector that picks the k-th kmap handed out, undone or not. */
    private static int kmap(World w, int k) {
        int n = w.kmaps.size();
        return 16 * n + (n - 1 - k);
    }

    private static final int EXP = 0;
    private static final int IMP = 1;
    private static final int THIRD = 2;
    private static final int OWNER = -1;

    private static Op export(int bundle) {
        return new Op.Export(bundle, 0, 0, 0, 0, 0); // 4096 bytes, O_RDWR, TestExporter
    }

    /**
     * A revoked buffer's atomic kmap is undone with kunmapAtomic (a cleanup call succeeds on a revoked buffer), also
     * after the thread took and undid another atomic kmap meanwhile. The core dropped the revoked entry from the
     * thread's stack at the next kmapAtomic, so the undo was EINVAL and the bundle kept the kmap until it stopped
     * (then reported as a leak).
     */
    @Test
    void revokedBuffersAtomicKmapCanBeUndoneAfterAnotherAtomicKmap() {
        step(x -> export(EXP));
        step(x -> new Op.Begin(EXP, buf(x, 0), 0, 0));
        step(x -> new Op.Kmap(EXP, buf(x, 0), 0, true));
        step(x -> new Op.Revoke(OWNER, buf(x, 0)));
        step(x -> export(EXP));
        step(x -> new Op.Begin(EXP, buf(x, 1), 0, 0));
        step(x -> new Op.Kmap(EXP, buf(x, 1), 0, true));
        step(x -> new Op.Kunmap(OWNER, kmap(x, 1), 0));
        step(x -> new Op.Kunmap(OWNER, kmap(x, 0), 0)); // the revoked buffer's page
    }

    /**
     * An atomic kmap of a buffer that was released meanwhile (kmaps hold no reference; release forgets every
     * holding) can no longer be undone by anyone, so it must not block the older atomic kmaps below it. The core
     * kept it on top of the thread's stack: undoing the older one was EINVAL until some later kmapAtomic happened
     * to drop it.
     */
    @Test
    void releasedBuffersAtomicKmapDoesNotBlockOlderOnes() {
        step(x -> export(EXP));
        step(x -> export(EXP));
        step(x -> new Op.Begin(EXP, buf(x, 0), 0, 0));
        step(x -> new Op.Begin(EXP, buf(x, 1), 0, 0));
        step(x -> new Op.Kmap(EXP, buf(x, 0), 0, true));
        step(x -> new Op.Kmap(EXP, buf(x, 1), 0, true));
        step(x -> new Op.Put(EXP, buf(x, 1))); // the last reference: buffer 1 is released
        step(x -> new Op.Kunmap(OWNER, kmap(x, 0), 0));
    }

    /**
     * kunmapAtomic undoes the calling thread's most recent atomic kmap only if the caller made it. The core took any
     * entry with the same buffer, page and view, so one bundle popped another bundle's entry while removing its own
     * holding's kmap; after the other bundle stopped, the thread kept an entry nobody held (counting against its
     * limit of two while the buffer lives). Found by CoreModelTest (minimal sequence, 7 steps).
     */
    @Test
    void kunmapAtomicDoesNotPopAnotherBundlesAtomicKmap() {
        step(x -> export(EXP));
        step(x -> new Op.Begin(EXP, buf(x, 0), 0, 0));
        step(x -> new Op.Kmap(EXP, buf(x, 0), 0, true));
        step(x -> new Op.Begin(THIRD, buf(x, 0), 0, 0));
        step(x -> new Op.Kmap(THIRD, buf(x, 0), 0, true));
        step(x -> new Op.Kunmap(OWNER, kmap(x, 0), 0)); // exporter.bundle's own kmap, but third.bundle's is on top
        step(x -> new Op.Kunmap(OWNER, kmap(x, 1), 0));
        step(x -> new Op.Kunmap(OWNER, kmap(x, 0), 0));
    }

    /** A bundle that stops holding one item of every kind: each is reclaimed and reported once, as the model says. */
    @Test
    void importerStoppingWithOneOfEverythingReportsEachOnce() {
        step(x -> new Op.Export(EXP, 5, 0, 0, 0, 0)); // 8192 bytes
        step(x -> new Op.GetBuf(IMP, buf(x, 0)));
        step(x -> new Op.Fd(IMP, buf(x, 0), 0)); // the reference moves into fd 0
        step(x -> new Op.GetBuf(IMP, buf(x, 0)));
        step(x -> new Op.Attach(IMP, buf(x, 0), true, false));
        step(x -> new Op.MapAtt(OWNER, 0, 1)); // TO_DEVICE
        step(x -> new Op.Begin(IMP, buf(x, 0), 2, 0)); // FROM_DEVICE, whole buffer
        step(x -> new Op.Kmap(IMP, buf(x, 0), 1, false));
        step(x -> new Op.Vmap(IMP, buf(x, 0)));
        step(x -> new Op.Mmap(IMP, 0, 0, 0, 0)); // fd 0, [0, 4096), PROT_READ
        step(x -> new Op.BundleStop(IMP));
        Map<String, Integer> kinds = new TreeMap<>();
        for (LeakDTO l : w.fx.core.leaks().recent()) {
            kinds.merge(l.kind, 1, Integer::sum);
        }
        assertEquals(Map.of(LeakDTO.KIND_FD, 1, LeakDTO.KIND_REFERENCE, 1, LeakDTO.KIND_ATTACHMENT, 1,
                LeakDTO.KIND_MAPPING, 1, LeakDTO.KIND_CPU_ACCESS, 1, LeakDTO.KIND_KMAP, 1, LeakDTO.KIND_VMAP, 1,
                LeakDTO.KIND_MMAP, 1), kinds);
        step(x -> new Op.Put(EXP, buf(x, 0))); // the exporter's reference was the last: released once
    }
}
