package dmabuf.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The configuration in MB as an operator writes it, and its typed form. */
class ConfigTest {

    @Test
    void megabytesBecomeBytesAndQuotaEntriesOverrideTheDefault() {
        List<String> problems = new ArrayList<>();
        MemoryConfig c = MemoryConfig.fromMegabytes(512, 64,
                new String[] {"camera.app=128", " gpu.driver = 0 ", "", "broken", "neg=-1", "=5", "x=abc"},
                problems::add);
        assertEquals(512L << 20, c.limitBytes());
        assertEquals(64L << 20, c.defaultQuotaBytes());
        assertEquals(Map.of("camera.app", 128L << 20, "gpu.driver", 0L), c.quotaBytes());
        assertEquals(128L << 20, c.quotaFor("camera.app"));
        assertEquals(0, c.quotaFor("gpu.driver"), "0 means no quota for that bundle");
        assertEquals(64L << 20, c.quotaFor("anyone.else"));
        assertEquals(4, problems.size(), problems::toString);
        assertTrue(problems.stream().allMatch(p -> p.contains("quotas entry")), problems::toString);
    }

    @Test
    void negativeNumbersFallBackToDefaultsAndHugeOnesSaturate() {
        List<String> problems = new ArrayList<>();
        MemoryConfig c = MemoryConfig.fromMegabytes(-1, -5, null, problems::add);
        assertEquals(MemoryConfig.DEFAULTS.limitBytes(), c.limitBytes());
        assertEquals(0, c.defaultQuotaBytes());
        assertEquals(2, problems.size());
        assertEquals(Long.MAX_VALUE, MemoryConfig.fromMegabytes(Long.MAX_VALUE, 0, null, problems::add)
                .limitBytes());
    }

    @Test
    void typedConfigRefusesNegatives() {
        assertThrows(IllegalArgumentException.class, () -> new MemoryConfig(-1, 0, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> MemoryConfig.DEFAULTS.withQuota("a", -1));
    }

    @Test
    void sizesReadWell() {
        assertEquals("4 KiB", Sizes.bytes(4096));
        assertEquals("3.75 GiB (4026531840 bytes)", Sizes.bytes(0xF000_0000L));
        assertEquals("100 bytes", Sizes.bytes(100));
        assertEquals("0x100000000", Sizes.hex(1L << 32));
    }
}
