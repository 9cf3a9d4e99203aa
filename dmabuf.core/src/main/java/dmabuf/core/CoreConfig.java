package dmabuf.core;

/**
 * The core's settings, typed. Built from the {@code dmabuf.core} configuration by the OSGi component, directly by
 * tests. Changing them at runtime revokes nothing; a lower fd limit applies to the next fd.
 *
 * @param fdLimit            the most fds one bundle may hold open at once ({@code EMFILE} beyond)
 * @param leakReportLevel    how much the core says about what a departed bundle still held
 * @param lockTimeoutMillis  the longest the core waits for a buffer's lock before failing with {@code ETIMEDOUT}
 * @param drainTimeoutMillis the longest a revoke waits for exporter calls in flight before it proceeds
 * @param leakHistory        how many leak reports the runtime DTO keeps
 * @param leakSamplingInterval at SIMPLE and ADVANCED, one export in this many is tracked for drops without put
 * @param fenceTimeoutMillis the longest an implicit-sync wait of the core waits for fences ({@code ETIMEDOUT}
 *                           beyond; 0 means never wait: {@code EBUSY} while fences are pending)
 */
public record CoreConfig(int fdLimit, LeakReportLevel leakReportLevel, long lockTimeoutMillis,
        long drainTimeoutMillis, int leakHistory, int leakSamplingInterval, long fenceTimeoutMillis) {

    /** Netty's default: tracking one buffer in 128 finds a steady leak soon and costs next to nothing. */
    public static final int DEFAULT_LEAK_SAMPLING_INTERVAL = 128;

    /** The default fence wait bound. */
    public static final long DEFAULT_FENCE_TIMEOUT_MILLIS = 5000;

    /** The defaults the component uses when no configuration exists. */
    public static final CoreConfig DEFAULTS = new CoreConfig(1024, LeakReportLevel.SIMPLE, 2000, 2000, 256);

    /** Settings with the default leak sampling interval and fence timeout. */
    public CoreConfig(int fdLimit, LeakReportLevel leakReportLevel, long lockTimeoutMillis, long drainTimeoutMillis,
            int leakHistory) {
        this(fdLimit, leakReportLevel, lockTimeoutMillis, drainTimeoutMillis, leakHistory,
                DEFAULT_LEAK_SAMPLING_INTERVAL, DEFAULT_FENCE_TIMEOUT_MILLIS);
    }

    /** Checks the ranges. */
    public CoreConfig {
        if (fdLimit < 1) {
            throw new IllegalArgumentException("fd_limit must be at least 1, not " + fdLimit);
        }
        if (leakReportLevel == null) {
            throw new IllegalArgumentException("leak_report_level must be set");
        }
        if (lockTimeoutMillis < 1 || drainTimeoutMillis < 0) {
            throw new IllegalArgumentException("timeouts must be positive: lock_timeout_ms=" + lockTimeoutMillis
                    + ", drain_timeout_ms=" + drainTimeoutMillis);
        }
        if (fenceTimeoutMillis < 0) {
            throw new IllegalArgumentException("fence_timeout_ms must not be negative, not " + fenceTimeoutMillis);
        }
        if (leakHistory < 0) {
            throw new IllegalArgumentException("leak_history must not be negative, not " + leakHistory);
        }
        if (leakSamplingInterval < 1) {
            throw new IllegalArgumentException("leak_sampling_interval must be at least 1, not "
                    + leakSamplingInterval);
        }
    }

    /** This configuration with another fd limit. */
    public CoreConfig withFdLimit(int limit) {
        return new CoreConfig(limit, leakReportLevel, lockTimeoutMillis, drainTimeoutMillis, leakHistory,
                leakSamplingInterval, fenceTimeoutMillis);
    }

    /** This configuration with another leak report level. */
    public CoreConfig withLeakReportLevel(LeakReportLevel level) {
        return new CoreConfig(fdLimit, level, lockTimeoutMillis, drainTimeoutMillis, leakHistory,
                leakSamplingInterval, fenceTimeoutMillis);
    }

    /** This configuration with another leak sampling interval. */
    public CoreConfig withLeakSamplingInterval(int interval) {
        return new CoreConfig(fdLimit, leakReportLevel, lockTimeoutMillis, drainTimeoutMillis, leakHistory, interval,
                fenceTimeoutMillis);
    }

    /** This configuration with other timeouts. */
    public CoreConfig withTimeouts(long lockMillis, long drainMillis) {
        return new CoreConfig(fdLimit, leakReportLevel, lockMillis, drainMillis, leakHistory, leakSamplingInterval,
                fenceTimeoutMillis);
    }

    /** This configuration with another fence wait bound. */
    public CoreConfig withFenceTimeout(long millis) {
        return new CoreConfig(fdLimit, leakReportLevel, lockTimeoutMillis, drainTimeoutMillis, leakHistory,
                leakSamplingInterval, millis);
    }

    /** The settings by their configuration keys, as the runtime DTO shows them. */
    public java.util.Map<String, Object> asProperties() {
        return java.util.Map.of("fd.limit", fdLimit, "leak.report.level", leakReportLevel.name(), "lock.timeout.ms",
                lockTimeoutMillis, "drain.timeout.ms", drainTimeoutMillis, "leak.history", leakHistory,
                "leak.sampling.interval", leakSamplingInterval, "fence.timeout.ms", fenceTimeoutMillis);
    }
}
