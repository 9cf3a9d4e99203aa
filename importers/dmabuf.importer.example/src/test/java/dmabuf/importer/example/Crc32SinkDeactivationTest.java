package dmabuf.importer.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.log.Logger;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufAttachment;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.Errno;
import dmabuf.api.SgTable;

/**
 * A producer may still be inside {@code accept} on its own thread when the sink is deactivated: deactivation waits
 * for that call to undo everything (so the registry is never released with the frame's attachment held, which the
 * core would report as a leak of this bundle), and refuses later calls with ENODEV.
 */
class Crc32SinkDeactivationTest {
    private static final long SIZE = 4096;

    private final List<String> events = new CopyOnWriteArrayList<>();
    private final CountDownLatch inAttach = new CountDownLatch(1);
    private final CountDownLatch attachMayReturn = new CountDownLatch(1);
    private final MemorySegment storage = Arena.ofAuto().allocate(SIZE);

    @Test
    void deactivationWaitsForTheFrameInProgressAndRefusesLaterOnes() throws Exception {
        Crc32Sink sink = new Crc32Sink(context(), registry(), proxy(Logger.class, (p, m, a) -> standard(p, m, a)));
        DmaBuf frame = frame();
        Thread producer = new Thread(() -> sink.accept(frame, 1), "producer");
        producer.start();
        assertTrue(inAttach.await(10, TimeUnit.SECONDS));

        Thread scr = new Thread(sink::deactivate, "scr");
        scr.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (scr.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
            Thread.onSpinWait(); // until deactivate waits for the call in progress
        }
        assertEquals(Thread.State.TIMED_WAITING, scr.getState());
        attachMayReturn.countDown();
        producer.join(10_000);
        scr.join(10_000);

        assertEquals(List.of("attach", "map", "begin", "vmap", "vunmap", "end", "unmap", "detach", "unregistered"),
                events.stream().filter(e -> !e.equals("status")).toList(),
                "the frame was undone before deactivation ended");
        DmaBufException refused = assertThrows(DmaBufException.class, () -> sink.accept(frame, 2));
        assertEquals(Errno.ENODEV, refused.errno());
    }

    private DmaBufRegistry registry() {
        DmaBufAttachment attachment = proxy(DmaBufAttachment.class, (p, m, a) -> standard(p, m, a));
        return proxy(DmaBufRegistry.class, (p, m, a) -> {
            switch (m.getName()) {
                case "attach" -> {
                    events.add("attach");
                    inAttach.countDown();
                    assertTrue(attachMayReturn.await(10, TimeUnit.SECONDS));
                    return attachment;
                }
                case "mapAttachment" -> {
                    events.add("map");
                    return SgTable.contiguous(0x1000, SIZE);
                }
                case "unmapAttachment" -> events.add("unmap");
                case "beginCpuAccess" -> events.add("begin");
                case "endCpuAccess" -> events.add("end");
                case "vmap" -> {
                    events.add("vmap");
                    return storage;
                }
                case "vunmap" -> events.add("vunmap");
                case "detach" -> events.add("detach");
                default -> {
                    return standard(p, m, a);
                }
            }
            return null;
        });
    }

    private DmaBuf frame() {
        return proxy(DmaBuf.class, (p, m, a) -> switch (m.getName()) {
            case "size" -> SIZE;
            case "pageCount" -> 1L;
            case "name" -> Optional.of("frame");
            default -> standard(p, m, a);
        });
    }

    private BundleContext context() {
        ServiceRegistration<?> registration = proxy(ServiceRegistration.class, (p, m, a) -> {
            events.add(m.getName().equals("unregister") ? "unregistered" : "status");
            return standard(p, m, a);
        });
        return proxy(BundleContext.class, (p, m, a) -> m.getName().equals("registerService") ? registration
                : standard(p, m, a));
    }

    /** Object's methods by identity; anything else does nothing and answers false, 0 or null. */
    private static Object standard(Object proxy, Method method, Object[] args) {
        switch (method.getName()) {
            case "hashCode":
                return System.identityHashCode(proxy);
            case "equals":
                return proxy == args[0];
            case "toString":
                return "scripted " + proxy.getClass().getInterfaces()[0].getSimpleName();
            default:
                break;
        }
        Class<?> type = method.getReturnType();
        if (type == boolean.class) {
            return Boolean.FALSE;
        }
        if (type == int.class) {
            return 0;
        }
        if (type == long.class) {
            return 0L;
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(Crc32SinkDeactivationTest.class.getClassLoader(), new Class<?>[] {type},
                handler);
    }
}
