package dev.tern.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data volume's health as the HTTP API reports it and acts on it: free space against a reserve
 * ({@code tern.storage.min-free-space}), recent fsync latency, and a storage failure.
 *
 * <p>Below the reserve the node is read-only, like etcd's NOSPACE alarm: it refuses writes with 503 and serves
 * reads, and it takes writes again by itself once space is back. Free space is probed by {@link #check}, which
 * the node calls periodically on a thread of its own: never per request, so the write path pays one volatile
 * read. A storage failure (a failed fsync) is final for this process: no fsync is ever retried.
 */
public final class StorageHealth {
  private static final Logger log = LoggerFactory.getLogger(StorageHealth.class);

  /** Free bytes on the volume holding a directory; injectable so tests can fill and free a "disk". */
  @FunctionalInterface
  public interface FreeSpaceProbe {
    long freeBytes(Path dir) throws IOException;

    /** The real one: the bytes this process may still write on the file store holding {@code dir}. */
    static FreeSpaceProbe fileStore() {
      return dir -> Files.getFileStore(dir).getUsableSpace();
    }
  }

  /** What /health and /v1/status show; {@code freeBytes} is -1 until the first check. */
  public record Report(long freeBytes, long reserveBytes, boolean readOnly, String failure, long fsyncLastMicros,
      long fsyncRecentMaxMicros, long fsyncs) {}

  private final Path dir;
  private final long reserveBytes;
  private final FreeSpaceProbe probe;
  private final FsyncStats fsyncs;
  private volatile long freeBytes = -1;
  private volatile boolean readOnly;
  private volatile String failure;
  private volatile long recentMaxNanos;

  public StorageHealth(Path dir, long reserveBytes, FreeSpaceProbe probe, FsyncStats fsyncs) {
    if (reserveBytes < 0) throw new IllegalArgumentException("the free space reserve must be >= 0, got " + reserveBytes);
    this.dir = Objects.requireNonNull(dir, "dir");
    this.reserveBytes = reserveBytes;
    this.probe = Objects.requireNonNull(probe, "probe");
    this.fsyncs = Objects.requireNonNull(fsyncs, "fsyncs");
  }

  /**
   * Probes the free space and takes the fsync latency window. Enters read-only below the reserve and leaves it
   * at or above; each change is logged once. A probe that fails keeps the last state (and logs why).
   */
  public void check() {
    recentMaxNanos = fsyncs.takeWindowMax();
    long free;
    try {
      free = probe.freeBytes(dir);
    } catch (IOException | RuntimeException e) {
      log.warn("Cannot read the free space of the volume holding {}: {}", dir, e.toString());
      return;
    }
    freeBytes = free;
    boolean low = free < reserveBytes;
    if (low && !readOnly) {
      log.warn("Only {} free on the volume holding {}, below the reserve of {} (tern.storage.min-free-space): this"
          + " node refuses writes (503) and serves reads until space is freed", mib(free), dir, mib(reserveBytes));
    } else if (!low && readOnly) {
      log.info("{} free on the volume holding {} again (reserve {}): this node takes writes again", mib(free), dir,
          mib(reserveBytes));
    }
    readOnly = low;
  }

  /** Records that the storage failed: from now on the node acknowledges nothing. */
  public void markFailed(Throwable cause) {
    failure = "storage in " + dir + " failed: " + cause
        + " (no fsync is retried: the node acknowledges nothing more; see docs/operations.md, \"Storage failures\")";
  }

  /** Why a write must be refused now, or null to take it. One volatile read or two: no disk access. */
  public String writeRefusal() {
    String failed = failure;
    if (failed != null) return failed;
    if (readOnly) {
      return "read-only: " + mib(freeBytes) + " free on the data volume, below the reserve of " + mib(reserveBytes)
          + " (tern.storage.min-free-space); writes resume by themselves once space is freed";
    }
    return null;
  }

  public Report report() {
    return new Report(freeBytes, reserveBytes, readOnly, failure, fsyncs.lastNanos() / 1000, recentMaxNanos / 1000,
        fsyncs.count());
  }

  public String failure() {
    return failure;
  }

  public boolean readOnly() {
    return readOnly;
  }

  private static String mib(long bytes) {
    return bytes < 0 ? "unknown" : (bytes >> 20) + " MiB";
  }
}
