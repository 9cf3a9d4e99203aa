package dmabuf.core.osgi;

import dmabuf.api.runtime.DmaBufRuntime;
import dmabuf.api.runtime.RuntimeDTO;
import dmabuf.core.DmaBufCore;

/** The runtime introspection service. */
final class RuntimeService implements DmaBufRuntime {
    private final DmaBufCore core;

    RuntimeService(DmaBufCore core) {
        this.core = core;
    }

    @Override
    public RuntimeDTO getRuntimeDTO() {
        return core.snapshots().runtimeDTO();
    }

    @Override
    public String bufinfo() {
        return core.snapshots().bufinfo();
    }
}
