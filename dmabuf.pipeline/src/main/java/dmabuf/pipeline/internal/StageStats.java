package dmabuf.pipeline.internal;

import java.util.Arrays;

import dmabuf.pipeline.api.PipelineStatusDTO;

/** One stage's frame count and latencies (the last {@value #WINDOW} frames), thread-safe. */
final class StageStats {
    static final int WINDOW = 4096;

    private final String name;
    private final String device;
    private final long[] micros = new long[WINDOW];
    private long frames;
    private String output = "";

    StageStats(String name, String device) {
        this.name = name;
        this.device = device;
    }

    /** Records one frame that took from {@code startNanos} until now. */
    synchronized void record(long startNanos, String newOutput) {
        micros[(int) (frames % WINDOW)] = (System.nanoTime() - startNanos) / 1000;
        frames++;
        output = newOutput;
    }

    synchronized long frames() {
        return frames;
    }

    synchronized PipelineStatusDTO.StageDTO dto() {
        PipelineStatusDTO.StageDTO dto = new PipelineStatusDTO.StageDTO();
        dto.name = name;
        dto.device = device;
        dto.frames = frames;
        dto.output = output;
        int n = (int) Math.min(frames, WINDOW);
        if (n > 0) {
            long[] sorted = Arrays.copyOf(micros, n);
            Arrays.sort(sorted);
            dto.latencyP50Micros = percentile(sorted, 0.50);
            dto.latencyP99Micros = percentile(sorted, 0.99);
        }
        return dto;
    }

    /** Nearest-rank percentile. */
    static double percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
