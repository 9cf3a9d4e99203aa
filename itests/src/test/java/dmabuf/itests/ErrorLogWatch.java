package dmabuf.itests;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;

import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogListener;
import org.osgi.service.log.LogReaderService;

/**
 * Watches the OSGi Log Service for ERROR entries during one test method, for {@link DmaBufTestSupport}. Each method
 * checks the entries logged since the previous method's check (the first also covers the framework's start-up).
 * <p>
 * Where the previous check ended is a system property named after the framework's UUID: one JVM runs one framework
 * at a time, but each test class may come in its own probe bundle, so a static field would start over with every
 * class.
 */
final class ErrorLogWatch implements LogListener {
    private final LogReaderService reader;
    private final String checkedKey;
    private final List<Pattern> expected = new ArrayList<>();
    private final ConcurrentSkipListMap<Long, LogEntry> errors = new ConcurrentSkipListMap<>();
    private long testStartSequence;

    ErrorLogWatch(LogReaderService reader, String frameworkUuid) {
        this.reader = reader;
        this.checkedKey = "dmabuf.itest.log.checked." + frameworkUuid;
    }

    /** Starts recording: the history since the last check, then every new entry. */
    void start() {
        reader.addLogListener(this);
        readLogHistory();
        testStartSequence = newestSequence();
    }

    /** Entries matching {@code regex} (message or exception message, {@code find}) do not count. */
    void expect(String regex) {
        expected.add(Pattern.compile(regex));
    }

    /** Stops recording; returns the unexpected ERROR entries, described, oldest first. */
    List<String> stop() {
        reader.removeLogListener(this);
        // The Log Service adds an entry to its history before it hands it to the listeners (on another thread),
        // so the history has everything logged so far, even what the listener has not seen yet.
        readLogHistory();
        List<String> unexpected = new ArrayList<>();
        for (LogEntry entry : errors.values()) {
            if (!isExpected(entry)) {
                unexpected.add(describe(entry));
            }
        }
        checkedUpTo(errors.isEmpty() ? newestSequence() : Math.max(newestSequence(), errors.lastKey()));
        errors.clear();
        expected.clear();
        return unexpected;
    }

    @Override
    public void logged(LogEntry entry) {
        if (entry.getLogLevel() == LogLevel.ERROR && entry.getSequence() > checkedUpTo()) {
            errors.putIfAbsent(entry.getSequence(), entry);
        }
    }

    private long checkedUpTo() {
        return Long.parseLong(System.getProperty(checkedKey, "-1"));
    }

    private void checkedUpTo(long sequence) {
        System.setProperty(checkedKey, Long.toString(Math.max(sequence, checkedUpTo())));
    }

    private void readLogHistory() {
        for (Enumeration<LogEntry> log = reader.getLog(); log.hasMoreElements();) {
            logged(log.nextElement());
        }
    }

    private long newestSequence() {
        Enumeration<LogEntry> log = reader.getLog(); // newest first
        return log.hasMoreElements() ? log.nextElement().getSequence() : -1;
    }

    private boolean isExpected(LogEntry entry) {
        for (Pattern p : expected) {
            if (p.matcher(String.valueOf(entry.getMessage())).find()
                || entry.getException() != null
                    && p.matcher(String.valueOf(entry.getException().getMessage())).find()) {
                return true;
            }
        }
        return false;
    }

    private String describe(LogEntry e) {
        String text = "  [" + e.getSequence() + (e.getSequence() <= testStartSequence ? ", before this test" : "")
            + "] " + (e.getBundle() == null ? "?" : e.getBundle().getSymbolicName()) + " " + e.getLoggerName()
            + ": " + e.getMessage();
        if (e.getException() != null) {
            StringWriter trace = new StringWriter();
            e.getException().printStackTrace(new PrintWriter(trace));
            text += "\n" + trace;
        }
        return text;
    }
}
