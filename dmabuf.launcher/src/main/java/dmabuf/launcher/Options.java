package dmabuf.launcher;

import java.util.OptionalInt;

/**
 * The command line.
 *
 * @param frames      the frame count to configure, or empty for the exporter's default
 * @param keepRunning keep the framework up after the report, until Ctrl-C
 * @param timeoutSeconds how long the stream may take
 * @param verbose     print the Log Service's INFO entries too
 * @param help        print the usage and exit
 */
record Options(OptionalInt frames, boolean keepRunning, int timeoutSeconds, boolean verbose, boolean help) {

    static final int DEFAULT_TIMEOUT_SECONDS = 60;

    static final String USAGE = """
            usage: run [--frames N] [--keep-running] [--timeout SECONDS] [--verbose]
              Starts Apache Felix with the dma-buf core, the example exporter and the example CRC-32 importer,
              streams frames from one to the other, prints a report and exits (0 when every frame arrived and
              nothing leaked, 1 otherwise).
              --frames N          frames to produce (configuration of PID dmabuf.exporter.example; default 8)
              --keep-running      after the report, keep the framework running until Ctrl-C
              --timeout SECONDS   how long the stream may take (default 60)
              --verbose           print the Log Service's INFO entries as well as WARN and ERROR
              -h, --help          this text""";

    /**
     * Parses the arguments.
     *
     * @throws IllegalArgumentException with a message for the user when they make no sense
     */
    static Options parse(String... args) {
        OptionalInt frames = OptionalInt.empty();
        boolean keepRunning = false;
        boolean verbose = false;
        boolean help = false;
        int timeout = DEFAULT_TIMEOUT_SECONDS;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            switch (arg) {
                case "--frames" -> {
                    if (value == null) {
                        value = next(args, ++i, arg);
                    }
                    frames = OptionalInt.of(number(arg, value, 0));
                }
                case "--timeout" -> {
                    if (value == null) {
                        value = next(args, ++i, arg);
                    }
                    timeout = number(arg, value, 1);
                }
                case "--keep-running" -> keepRunning = flag(arg, value);
                case "--verbose", "-v" -> verbose = flag(arg, value);
                case "--help", "-h" -> help = flag(arg, value);
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
            }
        }
        return new Options(frames, keepRunning, timeout, verbose, help);
    }

    private static String next(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static boolean flag(String option, String value) {
        if (value != null) {
            throw new IllegalArgumentException(option + " takes no value");
        }
        return true;
    }

    private static int number(String option, String value, int min) {
        int n;
        try {
            n = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a whole number, not '" + value + "'");
        }
        if (n < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + ", not " + n);
        }
        return n;
    }
}
