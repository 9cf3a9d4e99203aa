package dmabuf.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the exported jar as {@code ./run} does, in a child JVM whose working directory is a fresh folder (its
 * {@code load/} drop-in folder is created there), and checks what a person would see: the whole chain (bnd's
 * launcher, Felix, SCR, ConfigAdmin with the embedded defaults, FileInstall, the core, the drivers, the pipeline).
 */
class LauncherIT {
    private static final long TIMEOUT_SECONDS = 120;

    @TempDir
    Path workDir;

    record Run(int exitCode, String output) {
    }

    private Run launch(String... args) throws IOException, InterruptedException {
        String jar = System.getProperty("dmabuf.launcher.jar", "target/dmabuf-launcher.jar");
        assertTrue(new File(jar).isFile(), "the exported launcher " + jar + " (built at package)");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(System.getProperty("dmabuf.jvm.flags",
                "--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow").trim().split("\\s+")));
        command.add("-jar");
        command.add(Path.of(jar).toAbsolutePath().toString());
        command.addAll(List.of(args));
        Path log = Files.createTempFile("launcher-it-", ".log");
        try {
            Process process = new ProcessBuilder(command)
                    .directory(workDir.toFile())
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

    private static void assertNoNoise(String out) {
        // Log entries print as "log WARN <bundle>: ...", the JVM's warnings as "WARNING: ...".
        for (String bad : List.of("log WARN", "log ERROR", "WARNING:", "Exception", "\tat ", "gone")) {
            assertFalse(out.contains(bad), "'" + bad + "' in the output:\n" + out);
        }
    }

    @Test
    void theDemoStreamsThroughThePipelineReportsAndExits0() throws Exception {
        Run run = launch("--frames", "12");
        String out = run.output();
        assertEquals(0, run.exitCode(), "exit code; output:\n" + out);

        assertTrue(out.contains("report: COMPLETED: 12/12 frames 640x480 NV12"), out);
        for (String stage : List.of("capture", "render", "scanout")) {
            assertTrue(Pattern.compile("report: stage " + stage + " .* 12 frames, latency p50 \\d+ us, p99 \\d+ us")
                    .matcher(out).find(), "the " + stage + " stage's line; output:\n" + out);
        }
        assertTrue(out.contains("report: bytes copied 0\n"), out);
        assertTrue(Pattern.compile("report: last frame crc 0x[0-9a-f]{8} \\(frame \\d+\\)").matcher(out).find(), out);
        assertTrue(out.contains("report: leaks none, buffers still live 0\n"), "the core's leak report is empty:\n"
                + out);
        assertTrue(out.contains("frames 12/12"), "a progress line with the final count:\n" + out);
        Matcher first = Pattern.compile("first frame (\\d+) ms after JVM start").matcher(out);
        assertTrue(first.find(), out);
        assertTrue(out.endsWith("dmabuf-launcher: OK\n"), out);
        assertNoNoise(out);
        assertTrue(Files.isDirectory(workDir.resolve("load")), "the drop-in folder load/ was created");
    }

    @Test
    void anImpossibleConfiguredDeviceExits1AndSaysWhich() throws Exception {
        Files.createDirectories(workDir.resolve("load"));
        // The pipeline's configuration dropped into load/ replaces the embedded one: a camera that does not exist.
        Files.writeString(workDir.resolve("load/dmabuf.pipeline.cfg"), """
                camera=video9
                framebuffer.device=card0
                width=640
                height=480
                format=NV12
                """);
        Run run = launch("--frames", "5");
        String out = run.output();
        assertEquals(1, run.exitCode(), "exit code; output:\n" + out);
        assertTrue(out.contains("configuration from load/dmabuf.pipeline.cfg instead of the embedded default"), out);
        assertTrue(Pattern.compile("FAILED: the pipeline did not start: ENODEV: .*video9").matcher(out).find(), out);
        assertFalse(out.contains("\tat "), "no stack trace:\n" + out);
        assertFalse(out.contains("Exception"), "no exception names:\n" + out);
    }

    @Test
    void aUsageErrorExits2AndSaysWhy() throws Exception {
        Run run = launch("--frames", "many");
        assertEquals(2, run.exitCode(), run.output());
        assertTrue(run.output().contains("--frames needs a whole number, not 'many'"), run.output());
        assertTrue(run.output().contains("usage: java -jar dmabuf-launcher.jar"), run.output());
        assertNoNoise(run.output());
    }
}
