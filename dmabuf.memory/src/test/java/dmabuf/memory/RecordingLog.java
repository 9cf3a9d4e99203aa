package dmabuf.memory;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link MemoryLog} that keeps every message, so tests can assert what the engine reported. */
public final class RecordingLog implements MemoryLog {
    /** Everything logged at WARN. */
    public final List<String> warnings = new CopyOnWriteArrayList<>();
    /** Everything logged at ERROR. */
    public final List<String> errors = new CopyOnWriteArrayList<>();
    /** Everything logged at INFO. */
    public final List<String> infos = new CopyOnWriteArrayList<>();

    @Override
    public void info(String message) {
        infos.add(message);
    }

    @Override
    public void warn(String message) {
        warnings.add(message);
    }

    @Override
    public void error(String message, Throwable cause) {
        errors.add(message);
    }

    @Override
    public void debug(String message) {
    }

    /** The warnings that contain the text. */
    public List<String> warningsContaining(String text) {
        return warnings.stream().filter(w -> w.contains(text)).toList();
    }
}
