package dmabuf.exporter.scanout;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** How often each exporter op ran: per buffer and per device, so tests and operators can see the traffic. */
final class OpsCounters {
    /** The counted ops. */
    enum Op {
        ATTACH, DETACH, MAP, UNMAP, BEGIN_CPU_ACCESS, END_CPU_ACCESS, KMAP, KUNMAP, VMAP, VUNMAP, MMAP, RELEASE
    }

    private final AtomicLongArray counts = new AtomicLongArray(Op.values().length);

    void count(Op op) {
        counts.incrementAndGet(op.ordinal());
    }

    /** How often {@code op} ran. */
    long get(Op op) {
        return counts.get(op.ordinal());
    }

    /** Every count, for a status line. */
    Map<Op, Long> snapshot() {
        Map<Op, Long> m = new EnumMap<>(Op.class);
        for (Op op : Op.values()) {
            m.put(op, get(op));
        }
        return m;
    }
}
