package dmabuf.core.client;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import dmabuf.api.Errno;
import dmabuf.core.Errors;
import dmabuf.core.attach.Attachment;
import dmabuf.core.buffer.Buffer;
import dmabuf.core.file.FileTable;
import dmabuf.core.mmap.Mapping;

/**
 * One bundle using the registry: its file table and everything it holds, so that all of it can be attributed,
 * listed, and reclaimed when the bundle goes away.
 */
public final class Client {
    private final long bundleId;
    private final String symbolicName;
    private final FileTable files = new FileTable();
    private final Map<Buffer, Holding> holdings = new ConcurrentHashMap<>();
    private final Set<Attachment> attachments = ConcurrentHashMap.newKeySet();
    private final Set<Mapping> mmaps = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Registry calls of this bundle in progress, so the reclaim waits for them (see {@link #awaitCalls}). */
    private final AtomicInteger calls = new AtomicInteger();

    /**
     * @param bundleId     the bundle's id
     * @param symbolicName the bundle's symbolic name
     */
    public Client(long bundleId, String symbolicName) {
        this.bundleId = bundleId;
        this.symbolicName = symbolicName;
    }

    /** The bundle's id. */
    public long bundleId() {
        return bundleId;
    }

    /** The bundle's symbolic name. */
    public String symbolicName() {
        return symbolicName;
    }

    /** "name [id]", for messages. */
    public String describe() {
        return "bundle " + symbolicName + " [" + bundleId + "]";
    }

    @Override
    public String toString() {
        return describe();
    }

    /** The bundle's fds. */
    public FileTable files() {
        return files;
    }

    /** What the bundle holds of the buffer, created on first use. */
    public Holding holding(Buffer buffer) {
        Holding h = holdings.get(buffer);
        if (h == null) {
            h = holdings.computeIfAbsent(buffer, b -> new Holding());
            buffer.holders().add(this);
        }
        return h;
    }

    /** What the bundle holds of the buffer, or null. */
    public Holding existingHolding(Buffer buffer) {
        return holdings.get(buffer);
    }

    /** Forgets the buffer (it was released). */
    public void forget(Buffer buffer) {
        holdings.remove(buffer);
    }

    /** All holdings. */
    public Map<Buffer, Holding> holdings() {
        return holdings;
    }

    /** The bundle's linked attachments. */
    public Set<Attachment> attachments() {
        return attachments;
    }

    /** The bundle's open mmaps. */
    public Set<Mapping> mmaps() {
        return mmaps;
    }

    /** Refuses every operation once the bundle went away. */
    public void checkOpen() {
        if (closed) {
            throw Errors.error(Errno.ENODEV, describe() + " no longer uses the dma-buf registry (it stopped or ungot "
                    + "the service); everything it held was reclaimed");
        }
    }

    /**
     * Starts a registry call of the bundle: {@link Errno#ENODEV} once it went away. Every call that got past this
     * finishes before the reclaim starts ({@link #awaitCalls}), so whatever it takes is reclaimed; pair with
     * {@link #exitCall()}.
     */
    public void enterCall() {
        checkOpen(); // refused without touching the count, so refused callers cannot starve the wait in close
        calls.incrementAndGet();
        if (closed) {
            calls.decrementAndGet();
            checkOpen();
        }
    }

    /** Ends what {@link #enterCall()} began. */
    public void exitCall() {
        calls.decrementAndGet();
    }

    /**
     * After {@link #close()}: waits, at most {@code timeoutMillis}, for the bundle's calls in progress to finish.
     *
     * @return true when none is left
     */
    public boolean awaitCalls(long timeoutMillis) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (calls.get() > 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(50_000);
        }
        return true;
    }

    /** Registry calls of the bundle in progress. */
    public int callsInProgress() {
        return calls.get();
    }

    /** Marks the client closed; true for the first call. */
    public synchronized boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }

    /** True once closed. */
    public boolean isClosed() {
        return closed;
    }
}
