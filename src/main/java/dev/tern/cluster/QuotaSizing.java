package dev.tern.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import dev.tern.http.SpaceQuota;

/**
 * The space quota's size ({@code tern.storage.quota-bytes}) against the heap, checked at start: a node must never
 * find out by an {@code OutOfMemoryError} that its heap cannot hold the data its quota lets in.
 *
 * <p>Until the key-value state moves to disk, every key and value lives in the heap. docs/operations.md ("Heap")
 * measured up to {@value #HEAP_PER_DATA_BYTE} bytes of heap per byte of keys and values (small values of about
 * 100 bytes; larger values cost less), and a node needs room besides the data: the log since the last snapshot
 * ({@code tern.raft.snapshot-threshold}, 64 MiB), the entries kept for followers (32 MiB), the watch history
 * (16 MiB), the deduplication window, and Pekko, HTTP and G1's working room: {@link #HEAP_RESERVE_BYTES}. So a heap
 * of H holds at most (H - reserve) / {@value #HEAP_PER_DATA_BYTE} bytes of data: {@link #maxQuotaFor}.
 *
 * <p>The setting is {@code auto} (the default: min({@link #DEFAULT_QUOTA_BYTES}, what the heap holds), so a node
 * started with any heap that leaves room for data starts), a size (refused at start when larger than what the heap
 * holds), or 0 (no quota: data growth is then bounded by nothing but the heap).
 */
public final class QuotaSizing {
  /** The quota {@code auto} aims at, heap permitting: etcd's default quota. */
  public static final long DEFAULT_QUOTA_BYTES = 2L << 30;
  /** Heap bytes per byte of keys and values, the largest measured (docs/operations.md, "Heap"). */
  public static final double HEAP_PER_DATA_BYTE = 2.5;
  /** Heap a node needs besides its data (log since the snapshot, followers' entries, watch history, runtime). */
  public static final long HEAP_RESERVE_BYTES = 192L << 20;

  private static final String HEAP_SETTINGS = "-Xmx (TERN_HEAP, or -Xmx in TERN_JAVA_OPTS; `tern local --heap`)";

  private QuotaSizing() {}

  /** How the quota was chosen: its bytes (0: off) and a sentence for the start-up log. */
  public record Resolved(long quotaBytes, String description) {}

  /**
   * The largest quota a heap of {@code maxHeapBytes} (as {@code Runtime.maxMemory()} gives it) can hold; 0 when it
   * leaves no room for data. The one rule to change when the state moves out of the heap.
   */
  public static long maxQuotaFor(long maxHeapBytes) {
    if (maxHeapBytes == Long.MAX_VALUE) return Long.MAX_VALUE; // no heap bound at all
    return Math.max(0, (long) ((maxHeapBytes - HEAP_RESERVE_BYTES) / HEAP_PER_DATA_BYTE));
  }

  /** The smallest heap that holds a quota of {@code quotaBytes}: the inverse of {@link #maxQuotaFor}, rounded up. */
  public static long minHeapFor(long quotaBytes) {
    return HEAP_RESERVE_BYTES + (long) Math.ceil(quotaBytes * HEAP_PER_DATA_BYTE);
  }

  /**
   * Reads {@code storage.quota-bytes} of {@code tern} (the {@code tern} block) and sizes it against the heap.
   *
   * @throws IllegalArgumentException naming the setting and the heap to change, when the heap cannot hold the quota
   *     (or, for {@code auto}, any data at all)
   * @throws com.typesafe.config.ConfigException when the setting is neither {@code auto} nor a size
   */
  public static Resolved resolve(Config tern, long maxHeapBytes) {
    String path = "storage.quota-bytes";
    boolean auto = tern.getValue(path).valueType() == ConfigValueType.STRING
        && tern.getString(path).trim().equalsIgnoreCase("auto");
    return auto ? resolveAuto(maxHeapBytes) : resolve(tern.getBytes(path), maxHeapBytes);
  }

  /** {@code auto}: min({@link #DEFAULT_QUOTA_BYTES}, what the heap holds). */
  public static Resolved resolveAuto(long maxHeapBytes) {
    long max = maxQuotaFor(maxHeapBytes);
    if (max <= 0) {
      throw new IllegalArgumentException("a heap of " + mib(maxHeapBytes) + " leaves no room for data: a node needs "
          + mib(HEAP_RESERVE_BYTES) + " besides its keys and values. Raise " + HEAP_SETTINGS + " (512m or more), or"
          + " set " + SpaceQuota.SETTING + " = 0 to run without a quota (docs/operations.md, \"Space quota\")");
    }
    long quota = Math.min(DEFAULT_QUOTA_BYTES, max);
    String why = quota == DEFAULT_QUOTA_BYTES ? "the default"
        : "what a heap of " + mib(maxHeapBytes) + " holds; a heap of " + mib(minHeapFor(DEFAULT_QUOTA_BYTES))
            + " or more gets the default of " + mib(DEFAULT_QUOTA_BYTES);
    return new Resolved(quota, SpaceQuota.SETTING + " = auto: " + mib(quota) + " (" + why + ")");
  }

  /** An explicit size: 0 turns the quota off; above what the heap holds it is refused. */
  public static Resolved resolve(long quotaBytes, long maxHeapBytes) {
    if (quotaBytes < 0) throw new IllegalArgumentException(SpaceQuota.SETTING + " must be auto or >= 0, got " + quotaBytes);
    if (quotaBytes == 0) {
      return new Resolved(0, SpaceQuota.SETTING + " = 0: no space quota; nothing bounds the data but the heap of "
          + mib(maxHeapBytes) + ", and a node that fills it exits (docs/operations.md, \"Space quota\")");
    }
    long max = maxQuotaFor(maxHeapBytes);
    if (quotaBytes > max) {
      throw new IllegalArgumentException(SpaceQuota.SETTING + " = " + quotaBytes + " (" + mib(quotaBytes)
          + ") is more than a heap of " + mib(maxHeapBytes) + " can hold (at most " + mib(max) + "): keys and values"
          + " live in the heap, about " + HEAP_PER_DATA_BYTE + " x the data plus " + mib(HEAP_RESERVE_BYTES)
          + ". Raise " + HEAP_SETTINGS + " to at least " + mib(minHeapFor(quotaBytes)) + ", or lower "
          + SpaceQuota.SETTING + " (or set it to auto; docs/operations.md, \"Space quota\")");
    }
    return new Resolved(quotaBytes, SpaceQuota.SETTING + " = " + mib(quotaBytes) + " (a heap of " + mib(maxHeapBytes)
        + " holds up to " + mib(max) + ")");
  }

  private static String mib(long bytes) {
    if (bytes == Long.MAX_VALUE) return "unbounded";
    if (bytes < (1L << 20)) return bytes + " bytes";
    if (bytes % (1L << 20) == 0) return (bytes >> 20) + " MiB";
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
  }
}
