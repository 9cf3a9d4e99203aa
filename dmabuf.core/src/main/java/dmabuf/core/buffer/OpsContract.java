package dmabuf.core.buffer;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.EnumSet;
import java.util.Set;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufOps;
import dmabuf.api.DmaDataDirection;
import dmabuf.api.SgTable;
import dmabuf.api.VmArea;
import dmabuf.core.Errors;

/**
 * Which ops an exporter's class implements, found once per class (a {@code dma_buf_ops} with NULL pointers):
 * a method it does not override is a missing op. This is the core's check at the door: the mandatory ops and the
 * pin/unpin pairing are verified before a buffer exists.
 */
public final class OpsContract {

    /** The ops of {@link DmaBufOps} the core cares about being present. */
    public enum Op {
        MAP, UNMAP, RELEASE, ATTACH, DETACH, PIN, UNPIN, BEGIN_CPU_ACCESS, END_CPU_ACCESS, KMAP, VMAP, MMAP, OS_FD
    }

    private static final ClassValue<Set<Op>> IMPLEMENTED = new ClassValue<>() {
        @Override
        protected Set<Op> computeValue(Class<?> type) {
            return introspect(type);
        }
    };

    private OpsContract() {
    }

    /**
     * Validates an exporter's ops at export.
     *
     * @return the ops it implements
     * @throws dmabuf.api.DmaBufException EINVAL when a mandatory op is missing or pin/unpin are not paired
     */
    public static Set<Op> validate(DmaBufOps ops) {
        if (ops == null) {
            throw Errors.einval("ExportInfo has no ops: an exporter must implement DmaBufOps (map, unmap, release)");
        }
        Set<Op> implemented = IMPLEMENTED.get(ops.getClass());
        for (Op mandatory : EnumSet.of(Op.MAP, Op.UNMAP, Op.RELEASE)) {
            if (!implemented.contains(mandatory)) {
                throw Errors.einval("exporter ops " + ops.getClass().getName() + " lack the mandatory op "
                        + mandatory.name().toLowerCase() + " (map, unmap and release are required)");
            }
        }
        if (implemented.contains(Op.PIN) != implemented.contains(Op.UNPIN)) {
            throw Errors.einval("exporter ops " + ops.getClass().getName() + " implement "
                    + (implemented.contains(Op.PIN) ? "pin without unpin" : "unpin without pin")
                    + ": a dynamic exporter implements both, a static one neither");
        }
        if (implemented.contains(Op.PIN) && ops.cacheSgtMapping()) {
            throw Errors.einval("exporter ops " + ops.getClass().getName()
                    + " combine cacheSgtMapping with pin/unpin: a dynamic exporter's tables cannot be cached");
        }
        return implemented;
    }

    private static Set<Op> introspect(Class<?> type) {
        Set<Op> ops = EnumSet.noneOf(Op.class);
        check(type, ops, Op.MAP, "map", DmaBufAttachment.class, DmaDataDirection.class);
        check(type, ops, Op.UNMAP, "unmap", DmaBufAttachment.class, SgTable.class, DmaDataDirection.class);
        check(type, ops, Op.RELEASE, "release", DmaBuf.class);
        check(type, ops, Op.ATTACH, "attach", DmaBuf.class, DmaBufAttachment.class);
        check(type, ops, Op.DETACH, "detach", DmaBuf.class, DmaBufAttachment.class);
        check(type, ops, Op.PIN, "pin", DmaBufAttachment.class);
        check(type, ops, Op.UNPIN, "unpin", DmaBufAttachment.class);
        check(type, ops, Op.BEGIN_CPU_ACCESS, "beginCpuAccess", DmaBuf.class, DmaDataDirection.class, long.class,
                long.class);
        check(type, ops, Op.END_CPU_ACCESS, "endCpuAccess", DmaBuf.class, DmaDataDirection.class, long.class,
                long.class);
        check(type, ops, Op.KMAP, "kmap", DmaBuf.class, long.class);
        check(type, ops, Op.VMAP, "vmap", DmaBuf.class);
        check(type, ops, Op.MMAP, "mmap", DmaBuf.class, VmArea.class);
        check(type, ops, Op.OS_FD, "osFd", DmaBuf.class, boolean.class);
        return ops;
    }

    private static void check(Class<?> type, Set<Op> ops, Op op, String name, Class<?>... params) {
        try {
            Method m = type.getMethod(name, params);
            // Declared by the interface itself means "not overridden"; abstract means a class compiled against an
            // API that lacked the method (it would throw AbstractMethodError when called).
            if (m.getDeclaringClass() != DmaBufOps.class && !Modifier.isAbstract(m.getModifiers())) {
                ops.add(op);
            }
        } catch (NoSuchMethodException e) {
            // not present at all: the op is missing
        }
    }
}
