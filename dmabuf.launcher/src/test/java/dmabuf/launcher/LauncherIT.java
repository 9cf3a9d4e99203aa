package dmabuf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;

import dmabuf.exporter.example.TestPattern;

/**
 * Runs the packaged jar as `./run` does, in a child JVM, and checks its output: the whole chain (framework, SCR,
 * ConfigAdmin, core, exporter, importer) end to end.
 */
class LauncherIT {
    private static final long TIMEOUT_SECONDS = 120;

    record Run(int exitCode, String output) {
    }

    private static Run launch(String... args) throws IOException, InterruptedException {
        String jar = System.getProperty("dmabuf.launcher.jar", "target/dmabuf-launcher.jar");
        assertTrue(new File(jar).isFile(), "the packaged launcher " + jar + " (run by failsafe after package)");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("dmabuf.jvm.flags",
                "--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow").trim().split("\\s+")));
        command.add("-jar");
        command.add(jar);
        command.addAll(List.of(args));
        Path log = Files.createTempFile("launcher-it-", ".log");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail("the launcher did not exit within " + TIMEOUT_SECONDS + " s; output:\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Run(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The CRC-32 of frame {@code seq} of the default 640x480 stream, recomputed from the pattern function. */
    private static long expectedCrc(long seq) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment frame = arena.allocate(TestPattern.frameBytes(640, 480), 4);
            TestPattern.fill(frame, 640, 480, seq);
            CRC32 crc = new CRC32();
            crc.update(frame.asByteBuffer());
            return crc.getValue();
        }
    }

    @Test
    void fiveFramesEndToEnd() throws Exception {
        Run run = launch("--frames", "5");
        String out = run.output();
        assertEquals(0, run.exitCode(), "exit code; output:\n" + out);

        Matcher report = Pattern.compile("report: frames=(\\d+) last-crc32=(0x[0-9a-f]{8}) live-buffers=(\\d+)"
                + " leaks-reported=(\\d+)").matcher(out);
        assertTrue(report.find(), "a report line; output:\n" + out);
        assertEquals("5", report.group(1), "frames");
        assertEquals(String.format("0x%08x", expectedCrc(4)), report.group(2),
                "the importer's CRC of the last frame is the CRC of the pattern the exporter drew");
        assertEquals("0", report.group(3), "live buffers");
        assertEquals("0", report.group(4), "leaks reported");
        assertTrue(out.contains("configured dmabuf.exporter.example: frames=5"), out);
        for (int i = 1; i <= 5; i++) {
            assertTrue(out.contains("frame " + i + "/5: "), "progress line of frame " + i + "; output:\n" + out);
        }
        assertTrue(out.contains("framework stopped; OK"), out);

        for (String bad : List.of("WARN", "ERROR", "Exception", "\tat ")) {
            assertFalse(out.contains(bad), "'" + bad + "' in the output of a normal run:\n" + out);
        }

        Matcher storage = Pattern.compile("storage (\\S+) \\(deleted at exit\\)").matcher(out);
        assertTrue(storage.find(), out);
        assertFalse(Files.exists(Path.of(storage.group(1))), "the framework storage was deleted at exit");
    }

    @Test
    void aUsageErrorExitsWith2AndSaysWhy() throws Exception {
        Run run = launch("--frames", "many");
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("--frames needs a whole number, not 'many'"), run.output());
        assertTrue(run.output().contains("usage: run"), run.output());
    }
}
