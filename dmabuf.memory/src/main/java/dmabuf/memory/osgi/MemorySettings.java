package dmabuf.memory.osgi;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The configuration of PID {@code dmabuf.memory}, with Metatype so consoles and FileInstall can edit it. */
@ObjectClassDefinition(id = "dmabuf.memory", name = "dma-buf physical memory",
        description = "The global limit on memory reserved by device pools and the per-bundle quotas on allocated "
                + "memory. Changes apply to the next pool or allocation; existing ones are never touched.")
public @interface MemorySettings {
    /** @return the global limit in MB */
    @AttributeDefinition(name = "limit (MB)", min = "0",
            description = "The most memory all open pools may reserve together, in MB; a pool beyond it fails "
                    + "with ENOMEM naming the pools that hold the rest.")
    long limit_mb() default 1024;

    /** @return the default per-bundle quota in MB */
    @AttributeDefinition(name = "default quota per bundle (MB)", min = "0",
            description = "The most allocated (live) memory charged to one bundle, in MB; 0 for no quota. An "
                    + "allocation beyond it fails with ENOMEM naming the bundle.")
    long quota_mb() default 0;

    /** @return per-bundle quota overrides */
    @AttributeDefinition(name = "quotas per bundle", required = false,
            description = "Entries 'bundle.symbolic.name=MB' overriding the default quota for that bundle "
                    + "(0: no quota for it).")
    String[] quotas() default {};
}
