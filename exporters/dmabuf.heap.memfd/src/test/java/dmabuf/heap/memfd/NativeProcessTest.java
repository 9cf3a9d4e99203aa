package dmabuf.heap.memfd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.DmaDataDirection;
import dmabuf.importer.gpu.GpuImporterConfig;
import dmabuf.importer.gpu.GpuRenderer;
import dmabuf.importer.gpu.api.ColourMatrix;
import dmabuf.importer.gpu.api.ColourRenderer;
import dmabuf.importer.gpu.api.ReferenceTransform;
import dmabuf.importer.gpu.api.RenderResult;
import dmabuf.importer.gpu.api.RenderTarget;
import dmabuf.importer.gpu.api.SourceFormat;
import dmabuf.importer.gpu.api.Texture;
import dmabuf.os.Libc;
import dmabuf.os.UnixSocket;

/**
 * A frame written into a memfd heap buffer is read by another process that received the buffer's OS fd over a Unix
 * socket: the reader's checksum matches, and what the reader writes back appears in the JVM's own view, so both
 * looked at the same pages (no copy on either side).
 */
class NativeProcessTest {
    /** A 640x360 RGBA frame. */
    private static final int WIDTH = 640;
    private static final int HEIGHT = 360;
    private static final long FRAME = (long) WIDTH * HEIGHT * 4;

    @BeforeEach
    void linuxOnly() {
        assumeTrue(Libc.available(), "memfds and fd passing exist only on Linux: " + Libc.unavailableReason());
    }

    @Test
    void aNativeProgramReadsTheFrameThroughTheFdItReceived(@TempDir Path dir) throws Exception {
        // no C compiler: a second JVM stands in for the native process
        shareFrameWith(findOnPath("gcc") != null ? compileReader(dir) : javaChild(), dir);
    }

    @Test
    void aSecondJvmReadsTheFrameThroughTheFdItReceived(@TempDir Path dir) throws Exception {
        shareFrameWith(javaChild(), dir);
    }

    private static List<String> javaChild() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(FrameReader.class.getName());
        return cmd;
    }

    private static void shareFrameWith(List<String> command, Path dir) throws Exception {
        try (OsFixture f = new OsFixture()) {
            f.memfdHeap(Map.of());
            int fd = f.caller.heapAllocate("memfd", FRAME, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, 0);
            DmaBuf frame = f.caller.get(fd);
            f.caller.beginCpuAccess(frame, DmaDataDirection.TO_DEVICE);
            MemorySegment pixels = f.caller.vmap(frame);
            drawFrame(pixels);
            CRC32 expected = new CRC32();
            expected.update(pixels.asByteBuffer());
            f.caller.vunmap(frame, pixels);
            f.caller.endCpuAccess(frame, DmaDataDirection.TO_DEVICE);
            sendAndCheck(f, frame, fd, expected.getValue(), command, dir);
        }
    }

    /**
     * The pipeline's GPU renderer converts a camera frame (RGBA, in a memfd buffer) into an XRGB framebuffer that is
     * itself a memfd buffer; that framebuffer's OS fd goes to the native reader, whose CRC must equal the reference
     * transform's.
     */
    @Test
    void aFrameTheGpuRendererWroteReachesTheNativeReader(@TempDir Path dir) throws Exception {
        List<String> command = findOnPath("gcc") != null ? compileReader(dir) : javaChild();
        try (OsFixture f = new OsFixture()) {
            f.memfdHeap(Map.of());
            DmaBufRegistry gpuBundle = f.core.registryFor(f.core.openClient(40, "dmabuf.importer.gpu"));
            ColourRenderer gpu = new GpuRenderer(gpuBundle, OsFixture.config(GpuImporterConfig.class, Map.of()));
            int cameraFd = f.caller.heapAllocate("memfd", FRAME, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, 0);
            DmaBuf camera = f.caller.get(cameraFd);
            f.caller.beginCpuAccess(camera, DmaDataDirection.TO_DEVICE);
            MemorySegment pixels = f.caller.vmap(camera);
            drawFrame(pixels);
            byte[] cameraBytes = pixels.toArray(ValueLayout.JAVA_BYTE);
            f.caller.vunmap(camera, pixels);
            f.caller.endCpuAccess(camera, DmaDataDirection.TO_DEVICE);

            int fbFd = f.caller.heapAllocate("memfd", FRAME, DmaBufUapi.O_RDWR | DmaBufUapi.O_CLOEXEC, 0);
            DmaBuf framebuffer = f.caller.get(fbFd);
            Texture texture = new Texture(SourceFormat.RGBA, WIDTH, HEIGHT, WIDTH * 4);
            RenderResult result = gpu.render(camera, texture, framebuffer, new RenderTarget(WIDTH, HEIGHT, WIDTH * 4),
                    ColourMatrix.SEPIA);
            assertEquals(0, result.bytesCopied(), "the renderer copies nothing");
            long expected = ReferenceTransform.crc32(cameraBytes, texture, ColourMatrix.SEPIA);
            sendAndCheck(f, framebuffer, fbFd, expected, command, dir);
            f.caller.put(camera);
            f.caller.close(cameraFd);
        }
    }

    private static List<String> compileReader(Path dir) throws Exception {
        Path source = dir.resolve("frame_reader.c");
        try (var in = NativeProcessTest.class.getResourceAsStream("/frame_reader.c")) {
            Files.copy(in, source);
        }
        Path binary = dir.resolve("frame_reader");
        Process cc = new ProcessBuilder(findOnPath("gcc").toString(), "-O2", "-Wall", "-o", binary.toString(),
                source.toString()).redirectErrorStream(true).start();
        assertTrue(cc.waitFor(60, TimeUnit.SECONDS), "gcc did not finish within 60 s");
        String diagnostics = output(cc);
        assertEquals(0, cc.exitValue(), "gcc failed: " + diagnostics);
        return List.of(binary.toString());
    }

    /** Sends the frame's OS fd to the reader, checks its CRC, then that its write-back is in the JVM's view. */
    private static void sendAndCheck(OsFixture f, DmaBuf frame, int fd, long expectedCrc, List<String> command,
            Path dir) throws Exception {
        Path socketPath = dir.resolve("frame.sock");
        Process reader;
        try (UnixSocket.Listener listener = UnixSocket.listen(socketPath)) {
            List<String> cmd = new ArrayList<>(command);
            cmd.add(socketPath.toString());
            reader = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            int os = f.caller.osFd(frame);
            try (UnixSocket peer = listener.accept(Duration.ofSeconds(30))) {
                peer.sendFd(os);
            } finally {
                Libc.close(os); // the reader has its own fd now
            }
        }
        assertTrue(reader.waitFor(60, TimeUnit.SECONDS), "the reader did not finish within 60 s");
        String out = output(reader).trim();
        assertEquals(0, reader.exitValue(), "reader output: " + out);
        assertEquals(String.format(Locale.ROOT, "size=%d crc=%08x", FRAME, expectedCrc), out);

        f.caller.beginCpuAccess(frame, DmaDataDirection.FROM_DEVICE);
        MemorySegment back = f.caller.vmap(frame);
        byte[] tail = new byte[4];
        MemorySegment.copy(back, ValueLayout.JAVA_BYTE, FRAME - 4, tail, 0, 4);
        assertEquals("SEEN", new String(tail, StandardCharsets.US_ASCII),
                "the reader's write must land in the JVM's pages: no copy was made");
        f.caller.vunmap(frame, back);
        f.caller.endCpuAccess(frame, DmaDataDirection.FROM_DEVICE);
        f.caller.put(frame);
        f.caller.close(fd);
    }

    /** A test card: horizontal colour bars with a moving gradient, every pixel opaque. */
    static void drawFrame(MemorySegment pixels) {
        for (int y = 0; y < HEIGHT; y++) {
            for (int x = 0; x < WIDTH; x++) {
                int bar = x * 8 / WIDTH;
                int r = (bar & 1) != 0 ? 255 : (x + y) & 0xFF;
                int g = (bar & 2) != 0 ? 255 : y & 0xFF;
                int b = (bar & 4) != 0 ? 255 : x & 0xFF;
                pixels.set(ValueLayout.JAVA_INT_UNALIGNED, ((long) y * WIDTH + x) * 4,
                        r | g << 8 | b << 16 | 0xFF << 24);
            }
        }
    }

    private static String output(Process p) throws IOException {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static Path findOnPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path candidate = Path.of(d, program);
            if (!d.isEmpty() && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }
}
