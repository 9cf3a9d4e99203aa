package dmabuf.demo;

/**
 * The launcher's command line.
 *
 * @param frames         frames the demo streams
 * @param timeoutSeconds how long the demo may take from start to report (startup included)
 * @param shell          after the report, keep the framework running with the interactive Gogo shell
 * @param verbose        print the Log Service's INFO entries too
 * @param help           print the usage and exit 0
 */
record Options(long frames, int timeoutSeconds, boolean shell, boolean verbose, boolean help) {

    static final long DEFAULT_FRAMES = 120;
    static final int DEFAULT_TIMEOUT_SECONDS = 60;

    static final String USAGE = """
            usage: java -jar dmabuf-launcher.jar [--frames N] [--timeout SECONDS] [--shell] [--verbose] [--help]
              Starts Apache Felix with the dma-buf core, the camera, GPU and display drivers and the pipeline on
              embedded default configurations (a .cfg file of the same name in ./load overrides one; drop driver
              jars there too), streams N frames camera -> GPU -> display, prints a report and exits: 0 when every
              frame went through with no copy and nothing leaked, 1 when the pipeline failed, 2 on a usage error.
              --frames N          frames to stream (default 120)
              --timeout SECONDS   the longest the whole demo may take, startup included (default 60)
              --shell             after the report, keep running with the interactive Gogo shell (dmabuf:* commands;
                                  `exit 0` or Ctrl-D ends it)
              --verbose           print the Log Service's INFO entries as well as WARN and ERROR
              -h, --help          this text""";

    /**
     * Parses the arguments; {@code --name=value} and {@code --name value} both work.
     *
     * @throws IllegalArgumentException with a message for the user when they make no sense
     */
    static Options parse(String... args) {
        long frames = DEFAULT_FRAMES;
        int timeout = DEFAULT_TIMEOUT_SECONDS;
        boolean shell = false;
        boolean verbose = false;
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                value = arg.substring(eq + 1);
                arg = arg.substring(0, eq);
            }
            switch (arg) {
                case "--frames" -> frames = number(arg, value != null ? value : next(args, ++i, arg), 1);
                case "--timeout" -> timeout = (int) Math.min(Integer.MAX_VALUE,
                        number(arg, value != null ? value : next(args, ++i, arg), 1));
                case "--shell" -> shell = flag(arg, value);
                case "--verbose", "-v" -> verbose = flag(arg, value);
                case "--help", "-h" -> help = flag(arg, value);
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
            }
        }
        return new Options(frames, timeout, shell, verbose, help);
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

    private static long number(String option, String value, long min) {
        long n;
        try {
            n = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a whole number, not '" + value + "'");
        }
        if (n < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + ", not " + n);
        }
        return n;
    }
}
