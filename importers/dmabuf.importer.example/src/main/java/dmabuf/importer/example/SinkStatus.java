package dmabuf.importer.example;

/**
 * The service under which the CRC-32 sink publishes its counters, as service properties only: an observer (the
 * launcher, a console, a test) tracks {@code (objectClass=dmabuf.importer.example.SinkStatus)} and reads the
 * properties, so it needs neither this bundle's classes nor dmabuf.api. Updated after every frame (a
 * {@code MODIFIED} service event).
 */
public interface SinkStatus {
    /** Property: the importer's {@code dmabuf.importer.name}, a String. */
    String IMPORTER_NAME = "dmabuf.importer.name";
    /** Property: frames checksummed, a Long. */
    String FRAMES = "frames";
    /** Property: bytes checksummed, a Long. */
    String BYTES = "bytes";
    /** Property: the producer's sequence number of the last frame, a Long; -1 before the first. */
    String LAST_SEQUENCE = "last.sequence";
    /** Property: the CRC-32 of the last frame, a Long; -1 before the first. */
    String LAST_CRC32 = "last.crc32";
    /** Property: the size of the last frame in bytes, a Long. */
    String LAST_SIZE = "last.size";
    /** Property: how the last frame was read, {@code vmap} or {@code kmap}, a String. */
    String LAST_ACCESS = "last.access";
}
