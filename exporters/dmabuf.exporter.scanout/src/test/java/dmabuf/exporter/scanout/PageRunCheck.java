package dmabuf.exporter.scanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dmabuf.api.memory.PageAllocation;
import dmabuf.api.memory.PageRun;

/** Asserts the storage a scanout engine needs. */
final class PageRunCheck {
    private PageRunCheck() {
    }

    static void assertOneRunBelow4GiB(PageAllocation a, long size) {
        assertTrue(a.isContiguous(), "contiguous: " + a.runs());
        assertEquals(1, a.runs().size(), "one PageRun: " + a.runs());
        PageRun r = a.runs().get(0);
        assertEquals(size, r.bytes());
        assertEquals(0, r.physAddress() % 4096);
        assertTrue(r.end() - 1 <= 0xFFFF_FFFFL, "below the 32-bit mask: " + r);
    }
}
