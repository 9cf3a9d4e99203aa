package dmabuf.api;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The dma-buf core as a service: the kernel API ({@code dma_buf_*}) and the fd interface (mmap, ioctl, llseek,
 * fdinfo) in one place.
 * <p>
 * <b>Bundle-scoped.</b> Every bundle that gets this service gets its own instance with its own file table: fds are
 * small ints, lowest free first, up to a configurable limit ({@link Errno#EMFILE}). An fd of one bundle means nothing
 * in another ({@link Errno#EBADF}). Every reference, fd, attachment, mapping, vmap and CPU-access bracket is
 * attributed to the bundle that took it; when the bundle stops (or ungets the service), the core releases what it
 * still holds and reports each item once as a leak.
 * <p>
 * <b>Errors.</b> Every refused operation throws {@link DmaBufException} with the kernel's errno. Operations on a
 * revoked buffer (its exporter went away) fail with {@link Errno#ENODEV}; on a released buffer with
 * {@link Errno#EBADF}. A method that fails changes nothing.
 */
@ProviderType
public interface DmaBufRegistry extends DmaBufFences {

    // ---- export and references -------------------------------------------------------------------------------

    /**
     * Exports a buffer ({@code dma_buf_export}). The calling bundle becomes its owner and holds one reference.
     * Refused with {@link Errno#EINVAL} when the ops are null or lack {@code map}, {@code unmap} or
     * {@code release}, when only one of {@code pin}/{@code unpin} is implemented or pin comes with
     * {@code cacheSgtMapping}, when the size is not positive, the flags are not an access mode, the exporter name is
     * not one of the caller's registered {@link DmaBufExporter} services, or the name is too long.
     *
     * @param info what to export
     * @return the buffer, with one reference held by the caller
     */
    DmaBuf export(ExportInfo info);

    /**
     * Installs an fd for a buffer ({@code dma_buf_fd}), moving one of the caller's references into it. To install an
     * fd for a buffer received as an object, take a reference first ({@link #get(DmaBuf)}). On failure the caller
     * still holds its reference.
     *
     * @param dmaBuf the buffer
     * @param flags  an access mode, optionally with {@link DmaBufUapi#O_CLOEXEC}; any other bit is
     *               {@link Errno#EINVAL}; more access than the buffer was exported with is {@link Errno#EACCES}
     * @return the lowest free fd of the calling bundle
     */
    int fd(DmaBuf dmaBuf, int flags);

    /**
     * Takes a reference to the buffer behind one of the caller's fds ({@code dma_buf_get}).
     *
     * @param fd an fd of the calling bundle; anything else is {@link Errno#EBADF}
     * @return the buffer, with one more reference held by the caller
     */
    DmaBuf get(int fd);

    /**
     * Takes a reference to a buffer the caller holds as an object ({@code get_dma_buf}), e.g. one another bundle
     * passed to it.
     *
     * @param dmaBuf the buffer, alive
     * @return the same buffer
     */
    DmaBuf get(DmaBuf dmaBuf);

    /**
     * Exports the buffer to the operating system: a new real file descriptor of this process for the buffer's
     * storage (a {@code dup} of its memfd or kernel dma-buf fd), e.g. to send to a native process over a Unix socket
     * ({@code dmabuf.os.UnixSocket#sendFd}). The fd shares the pages, never a copy, and keeps them alive in the
     * kernel until it is closed, whatever happens to the buffer here: the caller owns it and closes it. Refused for
     * a buffer whose exporter has no OS fd (its storage is simulated memory) with {@link Errno#EINVAL}; flags other
     * than 0 and {@link DmaBufUapi#O_CLOEXEC} with {@link Errno#EINVAL}; a caller holding no reference, fd or
     * export of the buffer with {@link Errno#EACCES}.
     *
     * @param dmaBuf the buffer, alive
     * @param flags  {@link DmaBufUapi#O_CLOEXEC} (what {@link #osFd(DmaBuf)} passes) or 0 for an fd a child process
     *               inherits
     * @return the new OS fd
     * @since 1.1
     */
    int osFd(DmaBuf dmaBuf, int flags);

    /**
     * As {@link #osFd(DmaBuf, int)} with close-on-exec, the safe default.
     *
     * @param dmaBuf the buffer, alive
     * @return the new OS fd, close-on-exec
     * @since 1.1
     */
    default int osFd(DmaBuf dmaBuf) {
        return osFd(dmaBuf, DmaBufUapi.O_CLOEXEC);
    }

    /**
     * Drops one of the caller's references ({@code dma_buf_put}); the last reference of all releases the buffer.
     * A put without a reference of the caller's own is {@link Errno#EINVAL} and changes nothing (no double free).
     *
     * @param dmaBuf the buffer
     */
    void put(DmaBuf dmaBuf);

    /**
     * Duplicates an fd ({@code dup}): the new fd holds its own reference and never has close-on-exec.
     *
     * @param fd an fd of the calling bundle
     * @return the lowest free fd
     */
    int dup(int fd);

    /**
     * Closes an fd, dropping its reference.
     *
     * @param fd an fd of the calling bundle
     */
    void close(int fd);

    /**
     * The exporter withdraws a buffer it exported, e.g. before its device goes away: dynamic importers are told
     * ({@link DmaBufImporterOps#invalidateMappings}), every table is unmapped and every attachment detached, every
     * CPU view becomes invalid, {@link DmaBufOps#release} runs (once), and every later operation on the buffer fails
     * with {@link Errno#ENODEV}. References stay counted until they are put. Only the owner may revoke
     * ({@link Errno#EPERM}).
     *
     * @param dmaBuf a buffer the calling bundle exported
     */
    void revoke(DmaBuf dmaBuf);

    /**
     * The exporter is about to move the buffer's storage: tells every dynamic importer to drop its mappings
     * ({@code dma_buf_move_notify}). Only the owner may call it ({@link Errno#EPERM}).
     *
     * @param dmaBuf a buffer the calling bundle exported
     */
    void invalidateMappings(DmaBuf dmaBuf);

    // ---- attachments and mappings -----------------------------------------------------------------------------

    /**
     * Attaches a device ({@code dma_buf_attach}). The exporter may refuse; its error is passed on and nothing stays
     * linked. If the exporter is dynamic, the core pins the storage for this static importer until detach.
     *
     * @param dmaBuf the buffer
     * @param device the importing device
     * @return the attachment, owned by the calling bundle
     */
    DmaBufAttachment attach(DmaBuf dmaBuf, Device device);

    /**
     * Attaches a device of an importer that can be told to drop its mappings ({@code dma_buf_dynamic_attach}).
     *
     * @param dmaBuf      the buffer
     * @param device      the importing device
     * @param importerOps the importer's callbacks, not null
     * @return the attachment, owned by the calling bundle
     */
    DmaBufAttachment dynamicAttach(DmaBuf dmaBuf, Device device, DmaBufImporterOps importerOps);

    /**
     * Detaches ({@code dma_buf_detach}). Tables still mapped for the attachment are unmapped first (each with the
     * direction it was mapped with), then the exporter's detach runs. Detaching twice is {@link Errno#EINVAL}.
     *
     * @param attachment an attachment of the calling bundle
     */
    void detach(DmaBufAttachment attachment);

    /**
     * Pins a dynamic attachment's storage ({@code dma_buf_pin}); the exporter must be dynamic.
     *
     * @param attachment a dynamic attachment of the calling bundle
     */
    void pin(DmaBufAttachment attachment);

    /**
     * Undoes one {@link #pin(DmaBufAttachment)} ({@code dma_buf_unpin}).
     *
     * @param attachment a pinned attachment of the calling bundle
     */
    void unpin(DmaBufAttachment attachment);

    /**
     * Maps the buffer for the attached device ({@code dma_buf_map_attachment}). The direction is passed to the
     * exporter. The table is checked: it must cover the buffer and meet the device's mask, segment limits and
     * contiguity, else {@link Errno#EIO} (the exporter is at fault). With {@code cacheSgtMapping} the first table is
     * kept and returned again for the same direction; another direction is {@link Errno#EBUSY}.
     *
     * @param attachment an attachment of the calling bundle
     * @param direction  not {@link DmaDataDirection#NONE}
     * @return the table
     */
    SgTable mapAttachment(DmaBufAttachment attachment, DmaDataDirection direction);

    /**
     * Unmaps a table ({@code dma_buf_unmap_attachment}); the direction is passed to the exporter. A table this
     * attachment does not have mapped is {@link Errno#EINVAL}.
     *
     * @param attachment the attachment
     * @param table      the very table {@link #mapAttachment} returned
     * @param direction  the direction for the exporter
     */
    void unmapAttachment(DmaBufAttachment attachment, SgTable table, DmaDataDirection direction);

    // ---- CPU access -------------------------------------------------------------------------------------------

    /**
     * Opens a CPU-access bracket on the whole buffer ({@code dma_buf_begin_cpu_access}); the exporter makes the
     * bytes coherent for the CPU. {@code kmap} needs an open bracket.
     *
     * @param dmaBuf    the buffer
     * @param direction the access direction, passed to the exporter; not {@link DmaDataDirection#NONE}
     */
    void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction);

    /**
     * Opens a CPU-access bracket on {@code [offset, offset + length)} only: the exporter maintains just that range.
     *
     * @param dmaBuf    the buffer
     * @param direction the access direction
     * @param offset    the first byte, within the buffer
     * @param length    positive, and the range within the buffer ({@link Errno#EINVAL} otherwise)
     */
    void beginCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length);

    /**
     * Closes a bracket opened with {@link #beginCpuAccess(DmaBuf, DmaDataDirection)} by the calling bundle with the
     * same direction; without one it is {@link Errno#EINVAL}.
     *
     * @param dmaBuf    the buffer
     * @param direction the direction the bracket was opened with
     */
    void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction);

    /**
     * Closes a ranged bracket opened by the calling bundle with the same direction and range; without one it is
     * {@link Errno#EINVAL}.
     *
     * @param dmaBuf    the buffer
     * @param direction the direction the bracket was opened with
     * @param offset    the range's first byte
     * @param length    the range's length
     */
    void endCpuAccess(DmaBuf dmaBuf, DmaDataDirection direction, long offset, long length);

    /**
     * Maps one page for the CPU ({@code dma_buf_kmap}, of the original API). The calling bundle must have a
     * CPU-access bracket open that covers the page, and the page must lie in the buffer ({@link Errno#EINVAL}).
     *
     * @param dmaBuf    the buffer
     * @param pageIndex the page, from 0
     * @return the page's bytes (the last page may be shorter), scoped to the buffer
     */
    MemorySegment kmap(DmaBuf dmaBuf, long pageIndex);

    /**
     * Undoes {@link #kmap}; a page the caller does not have kmapped is {@link Errno#EINVAL}.
     *
     * @param dmaBuf    the buffer
     * @param pageIndex the page
     * @param page      the segment kmap returned
     */
    void kunmap(DmaBuf dmaBuf, long pageIndex, MemorySegment page);

    /**
     * Maps one page for a short access on the calling thread ({@code dma_buf_kmap_atomic}). Same rules as
     * {@link #kmap}; a thread may hold at most two atomic kmaps ({@link Errno#EBUSY}), undone in reverse order on the
     * same thread.
     *
     * @param dmaBuf    the buffer
     * @param pageIndex the page
     * @return the page's bytes, scoped to the buffer
     */
    MemorySegment kmapAtomic(DmaBuf dmaBuf, long pageIndex);

    /**
     * Undoes the calling thread's most recent {@link #kmapAtomic}; anything else is {@link Errno#EINVAL}.
     *
     * @param dmaBuf    the buffer
     * @param pageIndex the page
     * @param page      the segment kmapAtomic returned
     */
    void kunmapAtomic(DmaBuf dmaBuf, long pageIndex, MemorySegment page);

    /**
     * Maps the whole buffer contiguously ({@code dma_buf_vmap}). Refcounted under the buffer's lock: only the first
     * vmap reaches the exporter; later ones return the same view. An exporter without vmap is {@link Errno#EINVAL}.
     *
     * @param dmaBuf the buffer
     * @return a view of exactly {@link DmaBuf#size()} bytes, scoped to the buffer
     */
    MemorySegment vmap(DmaBuf dmaBuf);

    /**
     * Undoes one of the caller's vmaps ({@code dma_buf_vunmap}); the last one of all reaches the exporter. A vunmap
     * by a bundle holding no vmap, or with another segment than vmap returned, is {@link Errno#EINVAL}.
     *
     * @param dmaBuf the buffer
     * @param map    the segment vmap returned
     */
    void vunmap(DmaBuf dmaBuf, MemorySegment map);

    /**
     * Maps part of the buffer through one of the caller's fds ({@code mmap(2)} on a dma-buf fd, always shared).
     * Refused: an offset that is not page-aligned or a length that is not positive ({@link Errno#EINVAL}); a range
     * whose end wraps around ({@link Errno#EOVERFLOW}); a range past the last whole page of the buffer
     * ({@link Errno#EINVAL}); {@link DmaBufUapi#PROT_WRITE} on an fd without write access or any mapping of a
     * write-only fd ({@link Errno#EACCES}); an exporter without mmap ({@link Errno#EINVAL}).
     *
     * @param fd     an fd of the calling bundle
     * @param offset the byte offset in the buffer, page-aligned
     * @param length the length in bytes, rounded up to whole pages
     * @param prot   {@link DmaBufUapi#PROT_READ}, optionally with {@link DmaBufUapi#PROT_WRITE}
     * @return the mapping, holding a reference until closed
     */
    DmaBufMapping mmap(int fd, long offset, long length, int prot);

    /**
     * Maps part of a buffer for an importer that forwards its own mmap ({@code dma_buf_mmap}). Refused when the
     * page offset plus the page count wraps around ({@link Errno#EOVERFLOW}) or passes the end ({@link Errno#EINVAL}).
     *
     * @param dmaBuf the buffer
     * @param vma    the range (page offset treated as unsigned) and protection
     * @return the mapping, holding a reference until closed
     */
    DmaBufMapping mmap(DmaBuf dmaBuf, VmArea vma);

    // ---- dma-heaps ---------------------------------------------------------------------------------------------

    /**
     * Registers a heap under a name ({@code dma_heap_add}). The registration ends when closed or when the calling
     * bundle goes away.
     *
     * @param name the heap's name, as under {@code /dev/dma_heap/}: not empty, no {@code '/'}, unique
     *             ({@link Errno#EINVAL} otherwise)
     * @param heap the allocator, not null ({@link Errno#EINVAL})
     * @return the registration
     */
    dmabuf.api.heap.DmaHeapRegistration addHeap(String name, dmabuf.api.heap.DmaHeap heap);

    /**
     * The names of the registered heaps, sorted (the entries of {@code /dev/dma_heap/}).
     *
     * @return the names
     */
    java.util.List<String> heaps();

    /**
     * {@code DMA_HEAP_IOCTL_ALLOC}: allocates a zeroed buffer from a heap and installs an fd for it in the caller's
     * table. Refused: a length that is 0 or wraps when page-aligned (treated as unsigned), fd flags other than
     * {@link DmaBufUapi#O_CLOEXEC} and an access mode, or heap flags other than 0 ({@link Errno#EINVAL}); an unknown
     * heap ({@link Errno#ENOENT}); more than the heap can give ({@link Errno#ENOMEM}, from the heap).
     *
     * @param heapName  the heap's name
     * @param length    the size in bytes, rounded up to whole pages
     * @param fdFlags   an access mode, optionally with {@link DmaBufUapi#O_CLOEXEC}
     * @param heapFlags 0
     * @return the new fd
     */
    int heapAllocate(String heapName, long length, int fdFlags, long heapFlags);

    // ---- the fd interface -------------------------------------------------------------------------------------

    /**
     * {@code DMA_BUF_IOCTL_SYNC}: begins or ends CPU access on the whole buffer through an fd. Flags must set READ,
     * WRITE or both, optionally END, and nothing else ({@link Errno#EINVAL}).
     *
     * @param fd    an fd of the calling bundle
     * @param flags {@link DmaBufUapi#DMA_BUF_SYNC_READ} and/or {@link DmaBufUapi#DMA_BUF_SYNC_WRITE}, with
     *              {@link DmaBufUapi#DMA_BUF_SYNC_END} to end
     */
    void sync(int fd, long flags);

    /**
     * {@code DMA_BUF_SET_NAME}: names the buffer for the debug listing and fdinfo. At most 31 bytes of UTF-8
     * ({@link Errno#EINVAL}); the name ends at the first NUL, as a C string does; null is {@link Errno#EFAULT}.
     * Renaming is allowed while devices are attached.
     *
     * @param fd   an fd of the calling bundle
     * @param name the new name
     */
    void setName(int fd, String name);

    /**
     * A raw ioctl on a dma-buf fd, for code ported from C: {@link DmaBufUapi#DMA_BUF_IOCTL_SYNC} (argument: the
     * flags as a {@link Long}), {@link DmaBufUapi#DMA_BUF_SET_NAME_A} or {@link DmaBufUapi#DMA_BUF_SET_NAME_B}
     * (argument: the name as a {@link String}). An argument of the wrong type is {@link Errno#EFAULT}; a request this
     * file does not know is {@link Errno#ENOTTY}.
     *
     * @param fd      an fd of the calling bundle
     * @param request the ioctl number
     * @param arg     the argument
     * @return 0
     */
    long ioctl(int fd, long request, Object arg);

    /**
     * {@code llseek}: only {@code (0, SEEK_END)}, which returns the size, and {@code (0, SEEK_SET)}, which returns 0,
     * are allowed; everything else is {@link Errno#EINVAL}.
     *
     * @param fd     an fd of the calling bundle
     * @param offset the offset, 0
     * @param whence {@link DmaBufUapi#SEEK_SET} or {@link DmaBufUapi#SEEK_END}
     * @return the new position
     */
    long llseek(int fd, long offset, int whence);

    /**
     * What {@code /proc/self/fdinfo/<fd>} shows.
     *
     * @param fd an fd of the calling bundle
     * @return the fd's info
     */
    FdInfo fdinfo(int fd);

    /**
     * The debug listing, formatted as the kernel's {@code /sys/kernel/debug/dma_buf/bufinfo}: every live buffer with
     * size, flags, mode, count, exporter, id and name, its attached devices, and the totals. The same data is in
     * {@link dmabuf.api.runtime.DmaBufRuntime#getRuntimeDTO()}.
     *
     * @return the listing
     */
    String bufinfo();
}
