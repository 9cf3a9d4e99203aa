package dmabuf.api.runtime;

import org.osgi.dto.DTO;

/** A driver service the core rejected. */
public class FailedDriverDTO extends DTO {
    /** The name property is missing, not a String, or blank. */
    public static final int FAILURE_REASON_INVALID_NAME = 1;
    /** Another accepted driver of the same kind already has this name. */
    public static final int FAILURE_REASON_DUPLICATE_NAME = 2;
    /** A device or capabilities property has the wrong type. */
    public static final int FAILURE_REASON_INVALID_PROPERTY = 3;

    /** {@code "exporter"} or {@code "importer"}. */
    public String kind;
    /** The name property as given, or null. */
    public String name;
    /** The service's id. */
    public long serviceId;
    /** The registering bundle. */
    public long bundleId;
    /** One of the {@code FAILURE_REASON_*} constants. */
    public int failureReason;
    /** What is wrong and how to fix it. */
    public String failureMessage;
}
