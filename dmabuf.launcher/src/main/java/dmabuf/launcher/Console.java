package dmabuf.launcher;

import java.io.PrintStream;

/** Where the launcher writes: whole lines, one at a time, from any thread (the producer's, the Log Service's). */
final class Console {
    static final String PREFIX = "dmabuf-launcher: ";

    private final PrintStream out;
    private final PrintStream err;

    Console(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** A progress or report line on stdout. */
    void info(String line) {
        synchronized (this) {
            out.println(PREFIX + line);
            out.flush();
        }
    }

    /** A problem on stderr. */
    void problem(String line) {
        synchronized (this) {
            out.flush();
            err.println(PREFIX + line);
            err.flush();
        }
    }
}
