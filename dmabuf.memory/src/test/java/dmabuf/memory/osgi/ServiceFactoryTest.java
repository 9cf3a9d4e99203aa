package dmabuf.memory.osgi;

import static dmabuf.memory.MemoryFixture.MIB;
import static dmabuf.memory.MemoryFixture.assertErrno;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;

import dmabuf.api.Errno;
import dmabuf.api.memory.PagePool;
import dmabuf.api.memory.PhysicalMemory;
import dmabuf.api.memory.PoolSpec;
import dmabuf.memory.MemoryConfig;
import dmabuf.memory.MemoryEngine;
import dmabuf.memory.RecordingLog;

/** The bundle-scoped service without a framework: bundles are proxies answering their id and symbolic name. */
class ServiceFactoryTest {

    private static Bundle bundle(long id, String bsn) {
        return (Bundle) Proxy.newProxyInstance(Bundle.class.getClassLoader(), new Class<?>[] {Bundle.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "getBundleId" -> id;
                    case "getSymbolicName" -> bsn;
                    case "hashCode" -> Long.hashCode(id);
                    case "equals" -> proxy == args[0];
                    case "toString" -> bsn;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    @Test
    void eachBundleGetsItsOwnFacadeAndUngetReclaimsItsPools() {
        RecordingLog log = new RecordingLog();
        MemoryEngine engine = new MemoryEngine(MemoryConfig.DEFAULTS.withDefaultQuota(MIB), log, id -> "b" + id);
        PhysicalMemoryServiceFactory factory = new PhysicalMemoryServiceFactory(engine);
        Bundle exporter = bundle(7, "exporter.bundle");
        Bundle other = bundle(8, "other.bundle");
        PhysicalMemory mine = factory.getService(exporter, null);
        PhysicalMemory theirs = factory.getService(other, null);
        assertNotSame(mine, theirs);

        PagePool left = mine.createPool(PoolSpec.scattered("left-open", 2 * MIB));
        left.allocate(MIB);
        assertErrno(Errno.ENOMEM, () -> left.allocate(4096)); // charged to bundle 7, whose quota is 1 MiB
        theirs.createPool(PoolSpec.scattered("kept", MIB));

        factory.ungetService(exporter, null, mine);
        List<String> w = log.warningsContaining("exporter.bundle [7]");
        assertEquals(1, w.size(), log.warnings::toString);
        assertTrue(w.get(0).contains("pool 'left-open'") && w.get(0).contains("1 allocation still open"), w.get(0));
        assertEquals(MIB, engine.stats().reserved, "the other bundle's pool stays");
        assertErrno(Errno.ENODEV, () -> mine.createPool(PoolSpec.scattered("late", MIB)));

        factory.ungetService(exporter, null, mine); // a second unget is harmless
        factory.ungetService(other, null, theirs);
        assertEquals(2, log.warnings.size());
        assertEquals(0, engine.stats().reserved);
        engine.shutdown();
    }

    @Test
    void configurationInMegabytesReachesTheEngine() {
        RecordingLog log = new RecordingLog();
        MemorySettings s = new MemorySettings() {
            @Override
            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return MemorySettings.class;
            }

            @Override
            public long limit_mb() {
                return 2;
            }

            @Override
            public long quota_mb() {
                return 1;
            }

            @Override
            public String[] quotas() {
                return new String[] {"big.app=3", "typo"};
            }
        };
        MemoryConfig c = MemoryComponent.toConfig(s, log);
        assertEquals(2 * MIB, c.limitBytes());
        assertEquals(MIB, c.defaultQuotaBytes());
        assertEquals(3 * MIB, c.quotaFor("big.app"));
        assertEquals(1, log.warningsContaining("'typo'").size(), log.warnings::toString);
    }
}
