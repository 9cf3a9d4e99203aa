package dmabuf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

class OptionsTest {
    @Test
    void defaults() {
        Options o = Options.parse();
        assertEquals(OptionalInt.empty(), o.frames());
        assertFalse(o.keepRunning());
        assertFalse(o.verbose());
        assertEquals(Options.DEFAULT_TIMEOUT_SECONDS, o.timeoutSeconds());
    }

    @Test
    void framesInBothSpellings() {
        assertEquals(OptionalInt.of(5), Options.parse("--frames", "5").frames());
        assertEquals(OptionalInt.of(0), Options.parse("--frames=0").frames());
    }

    @Test
    void flags() {
        Options o = Options.parse("--keep-running", "--verbose", "--timeout", "9");
        assertTrue(o.keepRunning());
        assertTrue(o.verbose());
        assertEquals(9, o.timeoutSeconds());
        assertTrue(Options.parse("-h").help());
    }

    @Test
    void nonsenseIsRefusedWithAMessage() {
        assertEquals("--frames needs a value", assertThrows(IllegalArgumentException.class,
                () -> Options.parse("--frames")).getMessage());
        assertEquals("--frames needs a whole number, not 'many'", assertThrows(IllegalArgumentException.class,
                () -> Options.parse("--frames", "many")).getMessage());
        assertEquals("--frames must be at least 0, not -1", assertThrows(IllegalArgumentException.class,
                () -> Options.parse("--frames=-1")).getMessage());
        assertEquals("unknown option '--fast'", assertThrows(IllegalArgumentException.class,
                () -> Options.parse("--fast")).getMessage());
        assertEquals("--keep-running takes no value", assertThrows(IllegalArgumentException.class,
                () -> Options.parse("--keep-running=yes")).getMessage());
    }
}
