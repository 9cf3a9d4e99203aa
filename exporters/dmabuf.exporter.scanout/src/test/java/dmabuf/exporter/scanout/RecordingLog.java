package dmabuf.exporter.scanout;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dmabuf.core.CoreLog;
import dmabuf.memory.MemoryLog;

/** A log for the device, the core and the memory engine that keeps every message, so tests can assert on them. */
final class RecordingLog implements DeviceLog, CoreLog, MemoryLog {
    final List<String> infos = new CopyOnWriteArrayList<>();
    final List<String> warnings = new CopyOnWriteArrayList<>();
    final List<String> errors = new CopyOnWriteArrayList<>();

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

    /** The warnings and errors, for a failure message. */
    String problems() {
        return "warnings " + warnings + ", errors " + errors;
    }
}
