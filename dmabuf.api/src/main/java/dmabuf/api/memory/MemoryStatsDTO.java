package dmabuf.api.memory;

import org.osgi.dto.DTO;

/** The platform's memory accounting: a snapshot. */
public class MemoryStatsDTO extends DTO {
    /** The global limit on memory reserved by pools, in bytes. */
    public long limit;
    /** Bytes reserved by open pools. */
    public long reserved;
    /** Bytes allocated from pools. */
    public long live;
    /** The most bytes ever allocated at once. */
    public long peak;
    /** Per pool. */
    public PoolStatsDTO[] pools;
    /** Per bundle. */
    public BundleStatsDTO[] bundles;

    /** One pool. */
    public static class PoolStatsDTO extends DTO {
        /** The pool's name. */
        public String name;
        /** The owning bundle. */
        public long bundleId;
        /** {@link Placement} name. */
        public String placement;
        /** The first physical address. */
        public long physBase;
        /** The size in bytes. */
        public long capacity;
        /** Bytes allocated. */
        public long live;
        /** The most bytes allocated at once. */
        public long peak;
        /** Open allocations. */
        public long allocations;
    }

    /** One bundle. */
    public static class BundleStatsDTO extends DTO {
        /** The bundle's id. */
        public long bundleId;
        /** Its symbolic name. */
        public String symbolicName;
        /** Bytes reserved by its pools. */
        public long reserved;
        /** Bytes allocated and charged to it. */
        public long live;
        /** The most bytes charged to it at once. */
        public long peak;
        /** Its quota on live bytes; 0 for none. */
        public long quota;
    }
}
