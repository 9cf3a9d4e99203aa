package dmabuf.core.osgi;

import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceFactory;
import org.osgi.framework.ServiceRegistration;

import dmabuf.api.DmaBufRegistry;
import dmabuf.core.DmaBufCore;
import dmabuf.core.client.Client;

/**
 * Gives each bundle its own registry over its own client, and reclaims what the bundle held when it ungets the
 * service (the framework does so when the bundle stops): the deterministic leak checkpoint.
 */
final class RegistryServiceFactory implements ServiceFactory<DmaBufRegistry> {
    private final DmaBufCore core;
    private final java.util.Map<DmaBufRegistry, Client> clients = new java.util.concurrent.ConcurrentHashMap<>();

    RegistryServiceFactory(DmaBufCore core) {
        this.core = core;
    }

    @Override
    public DmaBufRegistry getService(Bundle bundle, ServiceRegistration<DmaBufRegistry> registration) {
        Client client = core.openClient(bundle.getBundleId(), bundle.getSymbolicName());
        DmaBufRegistry registry = core.registryFor(client);
        clients.put(registry, client);
        return registry;
    }

    @Override
    public void ungetService(Bundle bundle, ServiceRegistration<DmaBufRegistry> registration,
            DmaBufRegistry service) {
        Client client = clients.remove(service);
        if (client != null) {
            core.closeClient(client);
        }
    }
}
