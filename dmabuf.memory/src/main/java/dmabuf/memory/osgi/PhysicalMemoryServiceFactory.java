package dmabuf.memory.osgi;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceFactory;
import org.osgi.framework.ServiceRegistration;

import dmabuf.api.memory.PhysicalMemory;
import dmabuf.memory.BundleMemory;
import dmabuf.memory.MemoryEngine;

/**
 * Gives each bundle its own {@link PhysicalMemory}, which charges that bundle, and closes the pools the bundle left
 * open when it ungets the service (the framework does so when the bundle stops): each such pool is reported once at
 * WARN naming the bundle and the pool.
 */
final class PhysicalMemoryServiceFactory implements ServiceFactory<PhysicalMemory> {
    private final MemoryEngine engine;
    private final Map<PhysicalMemory, BundleMemory> facades = new ConcurrentHashMap<>();

    PhysicalMemoryServiceFactory(MemoryEngine engine) {
        this.engine = engine;
    }

    @Override
    public PhysicalMemory getService(Bundle bundle, ServiceRegistration<PhysicalMemory> registration) {
        BundleMemory facade = engine.openBundle(bundle.getBundleId(), bundle.getSymbolicName());
        facades.put(facade, facade);
        return facade;
    }

    @Override
    public void ungetService(Bundle bundle, ServiceRegistration<PhysicalMemory> registration,
            PhysicalMemory service) {
        BundleMemory facade = facades.remove(service);
        if (facade != null) {
            engine.closeBundle(facade);
        }
    }
}
