package dmabuf.api;

/**
 * What {@code /proc/PID/fdinfo/N} shows for a dma-buf fd, plus the fd's own flags.
 *
 * @param size         the buffer's size ({@code size:})
 * @param count        the buffer's references: fds, object references and mappings ({@code count:})
 * @param exporterName the exporter's name ({@code exp_name:})
 * @param name         the buffer's name ({@code name:}), or null when none was set (the kernel omits the line)
 * @param flags        the fd's flags: access mode and {@link DmaBufUapi#O_CLOEXEC} ({@code flags:})
 * @param inode        the buffer's id ({@code ino:})
 */
public record FdInfo(long size, long count, String exporterName, String name, int flags, long inode) {

    /** The lines as the kernel prints them. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append("pos:\t0\n");
        sb.append("flags:\t").append(String.format("%07o", flags)).append('\n');
        sb.append("ino:\t").append(inode).append('\n');
        sb.append("size:\t").append(size).append('\n');
        sb.append("count:\t").append(count).append('\n');
        sb.append("exp_name:\t").append(exporterName).append('\n');
        if (name != null) {
            sb.append("name:\t").append(name).append('\n');
        }
        return sb.toString();
    }
}
