package dmabuf.heap.memfd;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.ExportInfo;
import dmabuf.api.heap.DmaHeap;
import dmabuf.api.heap.DmaHeapRegistration;
import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.NativeException;

/**
 * The kernel's own dma-heaps: every device under {@code /dev/dma_heap} becomes a heap here (named with a prefix,
 * {@code kernel-system}), whose buffers are real kernel dma-bufs from {@code DMA_HEAP_IOCTL_ALLOC}, mapped with
 * {@code mmap} and bracketed with the real {@code DMA_BUF_IOCTL_SYNC} ({@link KernelBufferOps}); their
 * {@link DmaBufRegistry#osFd} is a dup of the kernel's dma-buf fd, which any DRM/V4L2 driver imports.
 * <p>
 * Where the directory does not exist, or cannot be read, or Linux calls are unavailable, the component says so in the
 * log, {@link #unavailableReason()} gives the reason, and no heap is registered: nothing is ever simulated here.
 */
@Component(name = KernelDmaHeaps.PID, configurationPid = KernelDmaHeaps.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true, service = {})
@Designate(ocd = KernelHeapsConfig.class)
public final class KernelDmaHeaps {
    /** The component's name and configuration PID. */
    public static final String PID = "dmabuf.heap.kernel";
    /** {@code DMA_HEAP_IOCTL_ALLOC}: {@code _IOWR('H', 0, struct dma_heap_allocation_data)}. */
    public static final long DMA_HEAP_IOCTL_ALLOC = 0xC0184800L;

    private final List<KernelHeap> heaps = new ArrayList<>();
    private final DmaBufRegistry registry;
    private final Logger logger;
    private final String unavailable;

    /**
     * Opens every kernel heap and registers it, or reports why there are none.
     *
     * @param context  this bundle's context, for the exporter services
     * @param config   the configuration, or its defaults
     * @param registry this bundle's dma-buf registry
     * @param logger   this component's logger
     */
    @Activate
    public KernelDmaHeaps(BundleContext context, KernelHeapsConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        this.registry = registry;
        this.logger = logger;
        Path dir = Path.of(config.dir());
        List<Path> devices = new ArrayList<>();
        String why = Libc.available() ? null : Libc.unavailableReason();
        if (why == null && !Files.isDirectory(dir)) {
            why = dir + " does not exist on this host (no kernel dma-heaps)";
        }
        if (why == null) {
            try (Stream<Path> s = Files.list(dir)) {
                s.sorted().forEach(devices::add);
            } catch (IOException e) {
                why = dir + " cannot be listed: " + e;
            }
        }
        if (why == null && devices.isEmpty()) {
            why = dir + " is empty";
        }
        for (Path device : why == null ? devices : List.<Path>of()) {
            String name = config.prefix() + device.getFileName();
            try {
                heaps.add(new KernelHeap(context, name, device));
            } catch (RuntimeException e) {
                logger.error("kernel dma-heap {} cannot be used: {}", device, e.getMessage());
            }
        }
        if (why == null && heaps.isEmpty()) {
            why = "no heap under " + dir + " could be opened";
        }
        this.unavailable = why;
        if (why != null) {
            logger.info("kernel dma-heaps unavailable: {}", why);
        }
    }

    /** Why no kernel heap is registered, or null when at least one is. */
    public String unavailableReason() {
        return unavailable;
    }

    /** The names of the registered kernel heaps. */
    public List<String> names() {
        return heaps.stream().map(h -> h.name).toList();
    }

    /** Removes every kernel heap, revoking its buffers. */
    @Deactivate
    void deactivate() {
        for (KernelHeap heap : heaps) {
            heap.stop();
        }
    }

    /** One kernel heap: its open device, its exporter service and registration, its live buffers. */
    private final class KernelHeap implements DmaHeap, DmaBufExporter {
        private final String name;
        private final Path device;
        private final int heapFd;
        private final LiveBuffers buffers;
        private final ExporterService exporter;
        private final DmaHeapRegistration registration;

        KernelHeap(BundleContext context, String name, Path device) {
            this.name = name;
            this.device = device;
            this.buffers = new LiveBuffers("kernel dma-heap '" + name + "'");
            try {
                this.heapFd = Libc.open(device.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
            } catch (NativeException e) {
                throw OsErrors.failed("open " + device, e);
            }
            ExporterService published = null;
            try {
                published = ExporterService.register(context, this, "heap:" + name, "dma_heap/" + name,
                        "kernel dma-heap " + device);
                this.exporter = published;
                this.registration = registry.addHeap(name, this);
            } catch (RuntimeException e) {
                if (published != null) {
                    published.unregister();
                }
                Libc.close(heapFd);
                throw e;
            }
            logger.info("kernel dma-heap {} registered as '{}'", device, name);
        }

        @Override
        public DmaBuf allocate(long length, int accessMode, long heapFlags, long callerBundleId) {
            return buffers.admit(() -> allocateAdmitted(length, accessMode, heapFlags));
        }

        private DmaBuf allocateAdmitted(long length, int accessMode, long heapFlags) {
            int fd;
            try (Arena a = Arena.ofConfined()) {
                // struct dma_heap_allocation_data { __u64 len; __u32 fd; __u32 fd_flags; __u64 heap_flags; }
                MemorySegment data = a.allocate(24, 8);
                data.set(JAVA_LONG, 0, length);
                data.set(JAVA_INT, 12, Libc.O_RDWR | Libc.O_CLOEXEC);
                data.set(JAVA_LONG, 16, heapFlags);
                Libc.ioctl(heapFd, DMA_HEAP_IOCTL_ALLOC, data);
                fd = data.get(JAVA_INT, 8);
            } catch (NativeException e) {
                throw OsErrors.failed("DMA_HEAP_IOCTL_ALLOC of " + length + " bytes on " + device, e);
            }
            KernelBufferOps ops;
            try {
                MappedRegion region = MappedRegion.map(new MappedRegion.FileRange(fd, 0, length),
                        Libc.PROT_READ | Libc.PROT_WRITE);
                ops = new KernelBufferOps("kernel dma-heap '" + name + "' buffer", fd, region, buffers::released);
            } catch (NativeException e) {
                Libc.close(fd);
                throw OsErrors.failed("mmap of a kernel dma-buf from " + device, e);
            }
            buffers.reserve(length, Long.MAX_VALUE);
            buffers.add(ops);
            try {
                DmaBuf buffer = registry.export(ExportInfo.builder(ops, length).flags(accessMode)
                        .exporter("heap:" + name).build());
                ops.exportedAs(buffer);
                return buffer;
            } catch (RuntimeException e) {
                ops.release(null);
                throw e;
            }
        }

        void stop() {
            registration.close();
            buffers.shutdown(registry, logger);
            exporter.unregister();
            Libc.close(heapFd);
        }
    }
}
