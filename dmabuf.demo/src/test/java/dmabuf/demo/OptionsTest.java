package dmabuf.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void defaultsWithNoArguments() {
        Options o = Options.parse();
        assertEquals(Options.DEFAULT_FRAMES, o.frames());
        assertEquals(Options.DEFAULT_TIMEOUT_SECONDS, o.timeoutSeconds());
        assertFalse(o.shell());
        assertFalse(o.verbose());
        assertFalse(o.help());
    }

    @Test
    void everyOptionInBothSpellings() {
        Options o = Options.parse("--frames", "100", "--timeout=5", "--shell", "-v");
        assertEquals(100, o.frames());
        assertEquals(5, o.timeoutSeconds());
        assertTrue(o.shell());
        assertTrue(o.verbose());
        assertEquals(7, Options.parse("--frames=7").frames());
        assertTrue(Options.parse("-h").help());
        assertTrue(Options.parse("--help").help());
    }

    @Test
    void usageErrorsSayWhatIsWrong() {
        assertEquals("--frames needs a whole number, not 'many'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("--frames", "many")).getMessage());
        assertEquals("--frames must be at least 1, not 0",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("--frames=0")).getMessage());
        assertEquals("--timeout needs a value",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("--timeout")).getMessage());
        assertEquals("--shell takes no value",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("--shell=yes")).getMessage());
        assertEquals("unknown option '--keep-running'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse("--keep-running")).getMessage());
    }
}
