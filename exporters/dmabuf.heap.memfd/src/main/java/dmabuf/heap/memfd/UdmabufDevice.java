package dmabuf.heap.memfd;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;
import org.osgi.service.metatype.annotations.Designate;

import dmabuf.api.DmaBuf;
import dmabuf.api.DmaBufException;
import dmabuf.api.DmaBufExporter;
import dmabuf.api.DmaBufRegistry;
import dmabuf.api.DmaBufUapi;
import dmabuf.api.Errno;
import dmabuf.api.ExportInfo;
import dmabuf.api.udmabuf.Udmabuf;
import dmabuf.api.udmabuf.UdmabufRange;
import dmabuf.os.Libc;
import dmabuf.os.MappedRegion;
import dmabuf.os.NativeException;

/**
 * The udmabuf device: dma-bufs made of memfd ranges, with the kernel's rules (see the {@code dmabuf.api.udmabuf}
 * package documentation). The buffer is exported by this bundle under the exporter {@value #EXPORTER} as
 * {@link MappedBufferOps} over one contiguous mapping of the ranges, and handed to the caller as an fd in its own
 * table.
 *
 * <h2>DOC: seals and the critical section</h2>
 * A process cannot take the memfd's inode lock as the kernel does, so the check is made race-free another way, under
 * one lock: the seals are checked (a memfd without {@code F_SEAL_SHRINK}, or with a write seal, is refused), the
 * ranges are mapped shared and writable, and the seals are checked again. Once the writable shared mapping exists,
 * the kernel refuses {@code F_SEAL_WRITE} to anyone ({@code EBUSY}), and {@code F_SEAL_SHRINK} can never be removed,
 * so what the second check saw holds for the buffer's whole life; a write seal that slipped in between is caught by
 * it, and the mapping is undone.
 * <p>
 * Where Linux calls are unavailable the service is not registered and the log says why.
 */
@Component(name = UdmabufDevice.PID, configurationPid = UdmabufDevice.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true, service = {})
@Designate(ocd = UdmabufConfig.class)
public final class UdmabufDevice implements Udmabuf, DmaBufExporter {
    /** The component's name and configuration PID. */
    public static final String PID = "dmabuf.udmabuf";
    /** The exporter name of every udmabuf. */
    public static final String EXPORTER = "udmabuf";
    /** The longest a create waits for another create's critical section. */
    static final long LOCK_WAIT_MS = 2_000;

    private static final long MIB = 1L << 20;
    private static final int WRITE_SEALS = Libc.F_SEAL_WRITE | Libc.F_SEAL_FUTURE_WRITE;

    private final DmaBufRegistry registry;
    private final Logger logger;
    private final LiveBuffers buffers = new LiveBuffers("udmabuf");
    private final ReentrantLock critical = new ReentrantLock();
    private final ExporterService exporter;
    private final org.osgi.framework.ServiceRegistration<Udmabuf> service;
    private volatile long sizeLimit;
    private volatile int listLimit;

    /**
     * Registers the device where Linux calls are available.
     *
     * @param context  this bundle's context, for the services
     * @param config   the configuration, or its defaults
     * @param registry this bundle's dma-buf registry, which exports the buffers
     * @param logger   this component's logger
     */
    @Activate
    public UdmabufDevice(BundleContext context, UdmabufConfig config,
            @Reference(name = "registry") DmaBufRegistry registry,
            @Reference(name = "logger", service = LoggerFactory.class) Logger logger) {
        this.registry = registry;
        this.logger = logger;
        configure(config);
        if (!Libc.available()) {
            this.exporter = null;
            this.service = null;
            logger.warn("udmabuf unavailable: {}", Libc.unavailableReason());
            return;
        }
        this.exporter = ExporterService.register(context, this, EXPORTER, EXPORTER, "udmabuf (memfd ranges)");
        this.service = context.registerService(Udmabuf.class, this, null);
    }

    /** True when the service is registered: Linux calls are available. */
    public boolean isAvailable() {
        return exporter != null;
    }

    /**
     * Applies new limits to the next create.
     *
     * @param config the configuration
     */
    @Modified
    void configure(UdmabufConfig config) {
        if (config.size_limit_mb() < 1 || config.size_limit_mb() > (1L << 20) || config.list_limit() < 1) {
            throw new IllegalArgumentException("invalid configuration of " + PID + ": size.limit.mb="
                    + config.size_limit_mb() + " (1..1048576), list.limit=" + config.list_limit() + " (at least 1)");
        }
        sizeLimit = config.size_limit_mb() * MIB;
        listLimit = config.list_limit();
    }

    @Override
    public int create(DmaBufRegistry caller, UdmabufRange range, int flags) {
        if (range == null) {
            throw new DmaBufException(Errno.EFAULT, "UDMABUF_CREATE without a range");
        }
        return createList(caller, List.of(range), flags);
    }

    @Override
    public int createList(DmaBufRegistry caller, List<UdmabufRange> ranges, int flags) {
        if (caller == null || ranges == null) {
            throw new DmaBufException(Errno.EFAULT, "UDMABUF_CREATE needs the caller's registry and its ranges");
        }
        if ((flags & ~UDMABUF_FLAGS_CLOEXEC) != 0) {
            throw einval(String.format("flags 0x%x: only UDMABUF_FLAGS_CLOEXEC (0x1) is defined", flags));
        }
        if (ranges.isEmpty() || ranges.size() > listLimit) {
            throw einval(ranges.size() + " ranges: between 1 and " + listLimit + " (" + PID + " list.limit)");
        }
        long total = checkGeometry(ranges);
        DmaBuf buffer = buffers.admit(() -> exportMapped(ranges, total));
        try {
            caller.get(buffer);
            try {
                int fdFlags = DmaBufUapi.O_RDWR | ((flags & UDMABUF_FLAGS_CLOEXEC) != 0 ? DmaBufUapi.O_CLOEXEC : 0);
                return caller.fd(buffer, fdFlags);
            } catch (RuntimeException e) {
                caller.put(buffer);
                throw e;
            }
        } finally {
            registry.put(buffer); // the caller's fd holds the buffer now, or nobody does and it is released
        }
    }

    /** Alignment, size and the limit: EINVAL, before any fd is looked at (as the kernel checks). */
    private long checkGeometry(List<UdmabufRange> ranges) {
        long total = 0;
        for (int i = 0; i < ranges.size(); i++) {
            UdmabufRange r = ranges.get(i);
            if (r == null) {
                throw new DmaBufException(Errno.EFAULT, "range " + i + " is null");
            }
            if (r.size() == 0) {
                throw einval("range " + i + " has size 0");
            }
            if (r.offset() < 0 || r.size() < 0 || ((r.offset() | r.size()) & (DmaBufUapi.PAGE_SIZE - 1)) != 0) {
                throw einval("range " + i + " (offset " + r.offset() + ", size " + r.size() + ") is not page-aligned "
                        + "(" + DmaBufUapi.PAGE_SIZE + " bytes)");
            }
            if (r.offset() + r.size() < 0 || total + r.size() < 0) {
                throw einval("range " + i + " overflows");
            }
            total += r.size();
            if (total > sizeLimit) {
                throw einval("the buffer would have " + total + " bytes, over the limit of " + sizeLimit / MIB
                        + " MiB (" + PID + " size.limit.mb)");
            }
        }
        return total;
    }

    /** Seals checked, ranges mapped, seals checked again, under one lock; then exported. */
    private DmaBuf exportMapped(List<UdmabufRange> ranges, long total) {
        Set<Integer> fds = new LinkedHashSet<>();
        for (UdmabufRange r : ranges) {
            fds.add(r.memfd());
        }
        MappedRegion region;
        if (!tryLock()) {
            throw new DmaBufException(Errno.EAGAIN, "another udmabuf create held the seal check for over "
                    + LOCK_WAIT_MS + " ms; try again");
        }
        try {
            for (int fd : fds) {
                checkSeals(fd, "");
            }
            for (UdmabufRange r : ranges) {
                long fileSize = stat(r.memfd()).size();
                if (r.offset() + r.size() > fileSize) {
                    throw einval("range (offset " + r.offset() + ", size " + r.size() + ") reaches past the end of "
                            + "memfd " + r.memfd() + ", which has " + fileSize + " bytes");
                }
            }
            List<MappedRegion.FileRange> fileRanges = new ArrayList<>();
            for (UdmabufRange r : ranges) {
                fileRanges.add(new MappedRegion.FileRange(r.memfd(), r.offset(), r.size()));
            }
            try {
                region = MappedRegion.mapAll(fileRanges, Libc.PROT_READ | Libc.PROT_WRITE);
            } catch (NativeException e) {
                // A write seal added since the first check makes the writable mmap fail (EPERM): report the rule
                for (int fd : fds) {
                    checkSeals(fd, " (added while it was being mapped)");
                }
                throw OsErrors.failed("udmabuf: mapping " + ranges.size() + " range(s)", e);
            }
            try {
                for (int fd : fds) {
                    checkSeals(fd, " (added while it was being mapped)");
                }
            } catch (RuntimeException e) {
                region.close();
                throw e;
            }
        } finally {
            critical.unlock();
        }
        MappedBufferOps ops = new MappedBufferOps("udmabuf of " + ranges.size() + " range(s)", region,
                buffers::released);
        buffers.reserve(total, Long.MAX_VALUE); // counted so a stop can wait for every release
        buffers.add(ops);
        try {
            DmaBuf buffer = registry.export(ExportInfo.builder(ops, total).flags(DmaBufUapi.O_RDWR)
                    .exporter(EXPORTER).build());
            ops.exportedAs(buffer);
            return buffer;
        } catch (RuntimeException e) {
            ops.release(null); // never exported: unmap here
            throw e;
        }
    }

    private boolean tryLock() {
        try {
            return critical.tryLock(LOCK_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A memfd sealed against shrinking and not against writing; EBADFD for a file that is not a memfd. */
    private static void checkSeals(int fd, String when) {
        int seals;
        try {
            seals = Libc.getSeals(fd);
        } catch (NativeException e) {
            if (e.errno() == Errno.EINVAL.number()) {
                throw new DmaBufException(Errno.EBADFD, "fd " + fd + " is not a memfd (it has no seals): udmabuf "
                        + "takes memfd_create files only");
            }
            throw OsErrors.failed("udmabuf: fd " + fd, e);
        }
        if ((seals & Libc.F_SEAL_SHRINK) == 0) {
            throw einval("memfd " + fd + " is not sealed with F_SEAL_SHRINK" + when + ": its pages could be "
                    + "truncated under a device; add the seal (fcntl F_ADD_SEALS) first");
        }
        if ((seals & WRITE_SEALS) != 0) {
            throw einval("memfd " + fd + " has a write seal (F_SEAL_WRITE or F_SEAL_FUTURE_WRITE)" + when
                    + ": a udmabuf is writable");
        }
    }

    private static Libc.FileStat stat(int fd) {
        try {
            return Libc.fstat(fd);
        } catch (NativeException e) {
            throw OsErrors.failed("udmabuf: fstat of memfd " + fd, e);
        }
    }

    private static DmaBufException einval(String message) {
        return new DmaBufException(Errno.EINVAL, "udmabuf: " + message);
    }

    /** The ops of every udmabuf not yet released (for tests). */
    List<MappedBufferOps> liveBuffers() {
        return buffers.snapshot();
    }

    /** Withdraws the service, revokes every udmabuf still alive, withdraws the exporter. */
    @Deactivate
    void deactivate() {
        if (!isAvailable()) {
            return;
        }
        try {
            service.unregister();
        } catch (IllegalStateException alreadyGone) {
            // the framework unregistered it while stopping the bundle
        }
        int revoked = buffers.shutdown(registry, logger);
        exporter.unregister();
        logger.info("udmabuf removed: {} live buffer(s) revoked", revoked);
    }

    @Override
    public String toString() {
        return "udmabuf";
    }
}
