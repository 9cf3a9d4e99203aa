package dmabuf.demo;

import java.io.PrintStream;

/** Where the demo writes: whole lines, one at a time, from any thread (the main thread's, the Log Service's). */
final class Console {
    static final String PREFIX = "dmabuf-launcher: ";

    private final PrintStream out;
    private final PrintStream err;

    Console(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** A progress or report line on stdout. */
    synchronized void info(String line) {
        out.println(PREFIX + line);
        out.flush();
    }

    /** A problem on stderr (stdout flushed first so the order holds when both go to one terminal). */
    synchronized void problem(String line) {
        out.flush();
        err.println(PREFIX + line);
        err.flush();
    }
}
