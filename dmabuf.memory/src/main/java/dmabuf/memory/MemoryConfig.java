package dmabuf.memory;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The memory engine's settings, typed and in bytes. Built from the {@code dmabuf.memory} configuration (in MB) by the
 * OSGi component with {@link #fromMegabytes}, directly by tests. Changing them at runtime touches no pool or
 * allocation: a lower limit or quota applies to the next pool or allocation.
 *
 * @param limitBytes        the most bytes all open pools may reserve together
 * @param defaultQuotaBytes the most live (allocated) bytes charged to one bundle; 0 for no quota
 * @param quotaBytes        per bundle symbolic name, a quota overriding the default (0: none for that bundle)
 */
public record MemoryConfig(long limitBytes, long defaultQuotaBytes, Map<String, Long> quotaBytes) {
    /** The configuration PID, named in messages that tell an operator what to raise. */
    public static final String PID = "dmabuf.memory";
    /** The configuration key of the global limit in MB. */
    public static final String LIMIT_KEY = "limit.mb";
    /** The configuration key of the default per-bundle quota in MB. */
    public static final String QUOTA_KEY = "quota.mb";
    /** The configuration key of the per-bundle quotas, entries {@code bsn=MB}. */
    public static final String QUOTAS_KEY = "quotas";

    /** The defaults: a 1 GiB limit, no quota. */
    public static final MemoryConfig DEFAULTS = new MemoryConfig(1024L << 20, 0, Map.of());

    /** Checks the values and copies the map. */
    public MemoryConfig {
        if (limitBytes < 0 || defaultQuotaBytes < 0) {
            throw new IllegalArgumentException("limit and quota must not be negative: " + LIMIT_KEY + " bytes="
                    + limitBytes + ", " + QUOTA_KEY + " bytes=" + defaultQuotaBytes);
        }
        TreeMap<String, Long> copy = new TreeMap<>();
        if (quotaBytes != null) {
            quotaBytes.forEach((bsn, q) -> {
                if (bsn == null || bsn.isBlank() || q == null || q < 0) {
                    throw new IllegalArgumentException("bad quota entry " + bsn + "=" + q);
                }
                copy.put(bsn, q);
            });
        }
        quotaBytes = Collections.unmodifiableMap(copy);
    }

    /** The quota of the bundle with this symbolic name, in bytes; 0 for none. */
    public long quotaFor(String symbolicName) {
        Long q = symbolicName == null ? null : quotaBytes.get(symbolicName);
        return q != null ? q : defaultQuotaBytes;
    }

    /** This configuration with another limit. */
    public MemoryConfig withLimit(long bytes) {
        return new MemoryConfig(bytes, defaultQuotaBytes, quotaBytes);
    }

    /** This configuration with another default quota. */
    public MemoryConfig withDefaultQuota(long bytes) {
        return new MemoryConfig(limitBytes, bytes, quotaBytes);
    }

    /** This configuration with one bundle's quota set. */
    public MemoryConfig withQuota(String symbolicName, long bytes) {
        Map<String, Long> m = new TreeMap<>(quotaBytes);
        m.put(symbolicName, bytes);
        return new MemoryConfig(limitBytes, defaultQuotaBytes, m);
    }

    /**
     * Builds a configuration from the configuration's values in MB. Negative numbers and malformed {@code quotas}
     * entries are reported to {@code problems} and skipped (the default is used), so a typo never stops the service.
     *
     * @param limitMb  {@code limit.mb}
     * @param quotaMb  {@code quota.mb}
     * @param quotas   {@code quotas}: entries {@code bundle.symbolic.name=MB}
     * @param problems told about each value that was ignored
     * @return the configuration
     */
    public static MemoryConfig fromMegabytes(long limitMb, long quotaMb, String[] quotas, Consumer<String> problems) {
        long limit = DEFAULTS.limitBytes();
        if (limitMb < 0) {
            problems.accept(LIMIT_KEY + "=" + limitMb + " is negative; using " + (limit >> 20));
        } else {
            limit = mb(limitMb);
        }
        long quota = 0;
        if (quotaMb < 0) {
            problems.accept(QUOTA_KEY + "=" + quotaMb + " is negative; using 0 (no quota)");
        } else {
            quota = mb(quotaMb);
        }
        Map<String, Long> perBundle = new TreeMap<>();
        if (quotas != null) {
            for (String entry : quotas) {
                if (entry == null || entry.isBlank()) {
                    continue;
                }
                int eq = entry.lastIndexOf('=');
                String bsn = eq > 0 ? entry.substring(0, eq).trim() : "";
                String value = eq > 0 ? entry.substring(eq + 1).trim() : "";
                long mb;
                try {
                    mb = Long.parseLong(value);
                } catch (NumberFormatException e) {
                    mb = -1;
                }
                if (bsn.isEmpty() || mb < 0) {
                    problems.accept(QUOTAS_KEY + " entry '" + entry
                            + "' is not 'bundle.symbolic.name=MB' with MB >= 0; ignored");
                    continue;
                }
                perBundle.put(bsn, mb(mb));
            }
        }
        return new MemoryConfig(limit, quota, perBundle);
    }

    private static long mb(long mb) {
        return mb > (Long.MAX_VALUE >> 20) ? Long.MAX_VALUE : mb << 20;
    }
}
