package dmabuf.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.util.function.Supplier;

import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeTestExecutionCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.api.runtime.RuntimeDTO;

/**
 * JUnit 5 extension: each test must end without a new leak report (see {@link LeakCheck}). The check starts right
 * before the test method (after {@code @BeforeEach}) and runs right after it (before {@code @AfterEach}), so fixtures
 * made in {@code @BeforeEach} are watched and teardown is not.
 * <p>
 * Either register it with the runtime to read:
 * <pre>{@code @RegisterExtension final NoLeaks noLeaks = NoLeaks.of(() -> fixture.runtimeDTO());}</pre>
 * or use {@code @ExtendWith(NoLeaks.class)} and mark a field of the test class, of type {@link DmaBufRuntime} or
 * {@code Supplier<RuntimeDTO>}, with {@link Watch}. Also {@link #nothingAllocated()}: no buffer may be left either.
 * A failing test's own failure is kept; the leak check only runs after a test that passed.
 */
public final class NoLeaks implements BeforeTestExecutionCallback, AfterTestExecutionCallback {
    /** Marks the field NoLeaks reads the runtime from when used with {@code @ExtendWith}. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface Watch {
    }

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoLeaks.class);

    private final Supplier<RuntimeDTO> runtime;
    private final boolean nothingAllocated;

    /** For {@code @ExtendWith}: the runtime comes from the field marked {@link Watch}. */
    public NoLeaks() {
        this(null, false);
    }

    private NoLeaks(Supplier<RuntimeDTO> runtime, boolean nothingAllocated) {
        this.runtime = runtime;
        this.nothingAllocated = nothingAllocated;
    }

    /** Watches the runtime DTO the supplier gives (read lazily, so it may refer to a fixture made later). */
    public static NoLeaks of(Supplier<RuntimeDTO> runtime) {
        return new NoLeaks(runtime, false);
    }

    /** Also requires that no buffer is left allocated at the end of each test. */
    public NoLeaks nothingAllocated() {
        return new NoLeaks(runtime, true);
    }

    @Override
    public void beforeTestExecution(ExtensionContext context) {
        context.getStore(NS).put(context.getUniqueId(), LeakCheck.of(supplier(context)).start());
    }

    @Override
    public void afterTestExecution(ExtensionContext context) {
        LeakCheck check = context.getStore(NS).remove(context.getUniqueId(), LeakCheck.class);
        if (check == null || context.getExecutionException().isPresent()) {
            return;
        }
        check.assertNoLeaks();
        if (nothingAllocated) {
            check.assertNothingAllocated();
        }
    }

    @SuppressWarnings("unchecked")
    private Supplier<RuntimeDTO> supplier(ExtensionContext context) {
        if (runtime != null) {
            return runtime;
        }
        Object test = context.getRequiredTestInstance();
        for (Class<?> c = test.getClass(); c != null; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (!f.isAnnotationPresent(Watch.class)) {
                    continue;
                }
                f.setAccessible(true);
                return () -> {
                    Object value;
                    try {
                        value = f.get(test);
                    } catch (IllegalAccessException e) {
                        throw new IllegalStateException("cannot read @NoLeaks.Watch field " + f, e);
                    }
                    if (value instanceof DmaBufRuntime r) {
                        return r.getRuntimeDTO();
                    }
                    if (value instanceof Supplier<?> s) {
                        return ((Supplier<RuntimeDTO>) s).get();
                    }
                    throw new IllegalStateException("@NoLeaks.Watch field " + f + " must be a DmaBufRuntime or a "
                            + "Supplier<RuntimeDTO>, not " + (value == null ? "null" : value.getClass().getName()));
                };
            }
        }
        throw new IllegalStateException(test.getClass().getName() + " uses NoLeaks but has no field marked "
                + "@NoLeaks.Watch; mark its DmaBufRuntime or Supplier<RuntimeDTO>, or register NoLeaks.of(...)");
    }
}
