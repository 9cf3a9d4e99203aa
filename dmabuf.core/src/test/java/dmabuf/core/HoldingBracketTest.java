package dmabuf.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

import dmabuf.api.DmaDataDirection;
import dmabuf.core.client.Holding;

/**
 * A holding's brackets: closing matches direction and range, and a begin/end loop on the same range reuses the
 * bracket it closed (the hot path allocates nothing) without ever sharing one open bracket between two opens.
 */
class HoldingBracketTest {
    @Test
    void closeMatchesDirectionAndRangeAndLeavesOthersOpen() {
        Holding h = new Holding();
        h.openBracket(DmaDataDirection.FROM_DEVICE, 0, 4096);
        h.openBracket(DmaDataDirection.TO_DEVICE, 4096, 4096);
        assertFalse(h.closeBracket(DmaDataDirection.TO_DEVICE, 0, 4096), "other direction");
        assertFalse(h.closeBracket(DmaDataDirection.FROM_DEVICE, 0, 8192), "other range");
        assertEquals(2, h.brackets().size());
        assertTrue(h.closeBracket(DmaDataDirection.FROM_DEVICE, 0, 4096));
        assertEquals(List.of(new Holding.Bracket(DmaDataDirection.TO_DEVICE, 4096, 4096)), h.brackets());
        assertFalse(h.bracketCovers(0, 4096));
        assertTrue(h.bracketCovers(4096, 1));
    }

    @Test
    void reopeningTheSameRangeReusesTheClosedBracket() {
        Holding h = new Holding();
        h.openBracket(DmaDataDirection.BIDIRECTIONAL, 0, 8192);
        Holding.Bracket first = h.brackets().get(0);
        assertTrue(h.closeBracket(DmaDataDirection.BIDIRECTIONAL, 0, 8192));
        h.openBracket(DmaDataDirection.BIDIRECTIONAL, 0, 8192);
        assertSame(first, h.brackets().get(0), "a begin/end loop must not allocate a bracket per begin");
        assertTrue(h.closeBracket(DmaDataDirection.BIDIRECTIONAL, 0, 8192));
        assertTrue(h.isEmpty());
    }

    @Test
    void nestedOpensOfTheSameRangeAreTwoBracketsClosedOneAtATime() {
        Holding h = new Holding();
        h.openBracket(DmaDataDirection.FROM_DEVICE, 0, 4096);
        h.closeBracket(DmaDataDirection.FROM_DEVICE, 0, 4096);
        h.openBracket(DmaDataDirection.FROM_DEVICE, 0, 4096); // reuses the closed one
        h.openBracket(DmaDataDirection.FROM_DEVICE, 0, 4096); // must be a new one
        assertNotSame(h.brackets().get(0), h.brackets().get(1));
        assertTrue(h.closeBracket(DmaDataDirection.FROM_DEVICE, 0, 4096));
        assertEquals(1, h.brackets().size());
        assertTrue(h.closeBracket(DmaDataDirection.FROM_DEVICE, 0, 4096));
        assertFalse(h.closeBracket(DmaDataDirection.FROM_DEVICE, 0, 4096), "nothing left to close");
    }
}
