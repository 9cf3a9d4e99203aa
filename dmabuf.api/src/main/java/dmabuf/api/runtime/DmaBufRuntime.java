package dmabuf.api.runtime;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The core's introspection service, in the style of the OSGi {@code *ServiceRuntime} services: a consistent snapshot
 * of drivers, buffers, attachments and leaks. Its {@code service.changecount} property grows whenever the snapshot
 * would differ (coalesced: it is published at most every few milliseconds, so watchers do not slow the frame path).
 */
@ProviderType
public interface DmaBufRuntime {
    /** A snapshot of everything the core tracks. */
    RuntimeDTO getRuntimeDTO();

    /** The kernel-style {@code bufinfo} listing of the live buffers. */
    String bufinfo();
}
