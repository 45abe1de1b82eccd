package dev.tern.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import dev.tern.http.SpaceQuota;

/**
 * The space quota ({@code tern.storage.quota-bytes}) and the heap, checked at start: a node must never find out by an
 * {@code OutOfMemoryError} that its heap cannot hold what it keeps in memory.
 *
 * <p>The keys and values live on disk (RocksDB, docs/storage.md), so the data does not need heap: the quota bounds the
 * disk the data takes, and its default is {@link #DEFAULT_QUOTA_BYTES}. What a node does hold in the heap is bounded
 * by settings: the log since the last snapshot ({@code tern.raft.snapshot-threshold}) and the entries kept for
 * followers ({@code snapshot-trailing-bytes}), the watch history ({@code tern.watch.history-bytes}), the hot values'
 * cache ({@code tern.storage.value-cache-size}), the
 * deduplication window ({@link #WINDOW_BYTES}) and the runtime (Pekko, HTTP, G1's working room:
 * {@link #RUNTIME_BYTES}). {@link #heapNeeded} adds them up, and a smaller heap is refused at start.
 *
 * <p>The quota is {@code auto} (the default: {@link #DEFAULT_QUOTA_BYTES}), a size, or 0 (no quota).
 */
public final class QuotaSizing {
  /** The quota {@code auto} stands for: etcd's suggested maximum, which the on-disk store holds in bounded memory. */
  public static final long DEFAULT_QUOTA_BYTES = 8L << 30;
  /** The deduplication window: 100,000 results without values, measured at about 25 MiB with short keys. */
  public static final long WINDOW_BYTES = 32L << 20;
  /** Pekko, Artery, HTTP, the metrics and G1's room to work. */
  public static final long RUNTIME_BYTES = 64L << 20;

  private static final String HEAP_SETTINGS = "-Xmx (TERN_HEAP, or -Xmx in TERN_JAVA_OPTS; `tern local --heap`)";

  private QuotaSizing() {}

  /** How the quota was chosen: its bytes (0: off) and a sentence for the start-up log. */
  public record Resolved(long quotaBytes, String description) {}

  /** The heap a node with these settings ({@code tern} block) holds at most, besides short-lived garbage. */
  public static long heapNeeded(Config tern) {
    return tern.getBytes("raft.snapshot-threshold") + tern.getBytes("raft.snapshot-trailing-bytes")
        + tern.getBytes("watch.history-bytes") + tern.getBytes("storage.value-cache-size") + WINDOW_BYTES + RUNTIME_BYTES;
  }

  /**
   * Checks the heap against what the node keeps in memory and reads {@code storage.quota-bytes}.
   *
   * @throws IllegalArgumentException naming the settings to change, when the heap is too small
   * @throws com.typesafe.config.ConfigException when the quota is neither {@code auto} nor a size
   */
  public static Resolved resolve(Config tern, long maxHeapBytes) {
    long needed = heapNeeded(tern);
    if (maxHeapBytes < needed) {
      throw new IllegalArgumentException("a heap of " + mib(maxHeapBytes) + " is too small: this node keeps up to "
          + mib(needed) + " in memory (the log since the last snapshot, tern.raft.snapshot-threshold = "
          + mib(tern.getBytes("raft.snapshot-threshold")) + ", and tern.raft.snapshot-trailing-bytes; the watch history,"
          + " tern.watch.history-bytes; the hot values' cache, tern.storage.value-cache-size; the deduplication window and the"
          + " runtime). Raise " + HEAP_SETTINGS + " to at least "
          + mib(needed) + ", or lower those settings (docs/operations.md, \"Memory\"). The keys and values themselves"
          + " are on disk and need no heap.");
    }
    String path = "storage.quota-bytes";
    boolean auto = tern.getValue(path).valueType() == ConfigValueType.STRING
        && tern.getString(path).trim().equalsIgnoreCase("auto");
    if (auto) {
      return new Resolved(DEFAULT_QUOTA_BYTES, SpaceQuota.SETTING + " = auto: " + mib(DEFAULT_QUOTA_BYTES));
    }
    long quota = tern.getBytes(path);
    if (quota < 0) throw new IllegalArgumentException(SpaceQuota.SETTING + " must be auto or >= 0, got " + quota);
    if (quota == 0) {
      return new Resolved(0, SpaceQuota.SETTING + " = 0: no space quota; nothing bounds the data but the disk"
          + " (tern.storage.min-free-space turns the node read-only when the volume fills; docs/operations.md)");
    }
    return new Resolved(quota, SpaceQuota.SETTING + " = " + mib(quota));
  }

  private static String mib(long bytes) {
    if (bytes == Long.MAX_VALUE) return "unbounded";
    if (bytes < (1L << 20)) return bytes + " bytes";
    if (bytes % (1L << 20) == 0) return (bytes >> 20) + " MiB";
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
  }
}
