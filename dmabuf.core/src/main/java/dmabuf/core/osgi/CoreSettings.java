package dmabuf.core.osgi;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dmabuf.core.CoreConfig;
import dmabuf.core.LeakReportLevel;

/** The configuration of PID {@code dmabuf.core}, with Metatype so consoles and FileInstall can edit it. */
@ObjectClassDefinition(id = "dmabuf.core", name = "dma-buf core",
        description = "Limits, timeouts and leak reporting of the dma-buf core. Changes apply at once and revoke "
                + "nothing.")
public @interface CoreSettings {
    /** @return the per-bundle fd limit */
    @AttributeDefinition(name = "fd limit per bundle", min = "1",
            description = "The most dma-buf fds one bundle may have open at once; one more fails with EMFILE.")
    int fd_limit() default 1024;

    /** @return the leak report level */
    @AttributeDefinition(name = "leak report level",
            description = "What the core reports about references a bundle still held when it went away: "
                    + "DISABLED (reclaim silently, track nothing), SIMPLE (one WARN per item; a sample of buffers is "
                    + "tracked for drops without put), ADVANCED (plus the export site) or PARANOID (every buffer "
                    + "tracked).")
    LeakReportLevel leak_report_level() default LeakReportLevel.SIMPLE;

    /** @return one export in this many is tracked for drops at SIMPLE and ADVANCED */
    @AttributeDefinition(name = "leak sampling interval", min = "1",
            description = "At SIMPLE and ADVANCED one export in this many is tracked for being dropped without put.")
    int leak_sampling_interval() default CoreConfig.DEFAULT_LEAK_SAMPLING_INTERVAL;

    /** @return the lock wait bound */
    @AttributeDefinition(name = "lock timeout (ms)", min = "1",
            description = "The longest the core waits for a buffer's lock before failing with ETIMEDOUT.")
    long lock_timeout_ms() default 2000;

    /** @return the drain wait bound */
    @AttributeDefinition(name = "revoke drain timeout (ms)", min = "0",
            description = "The longest a revoke waits for exporter calls in flight before it tears down anyway.")
    long drain_timeout_ms() default 2000;

    /** @return the leak history size */
    @AttributeDefinition(name = "leak history", min = "0",
            description = "How many leak reports the runtime DTO keeps.")
    int leak_history() default 256;

    /** @return the fence wait bound */
    @AttributeDefinition(name = "fence timeout (ms)", min = "0",
            description = "The longest the core's implicit-sync waits (CPU access, a static importer's map) wait for "
                    + "a buffer's fences before failing with ETIMEDOUT; 0 never waits (EBUSY while fences are "
                    + "pending).")
    long fence_timeout_ms() default 5000;

    /** @return the changecount coalescing delay */
    @AttributeDefinition(name = "change count delay (ms)", min = "0",
            description = "Changes are published in service.changecount at most this often, so watchers never "
                    + "slow the frame path. Takes effect when the core restarts.")
    long changecount_delay_ms() default 50;
}
