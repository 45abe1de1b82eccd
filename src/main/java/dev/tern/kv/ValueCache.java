package dev.tern.kv;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The recently used keys' values as RocksDB stores them ({@link RocksRecords#encodeValue}), in the heap, bounded by
 * bytes and least recently used first out (docs/storage.md, section 12, "Memory").
 *
 * <p>Why: a read of a hot key, and the old value a put or delete must look up (for the key count and the data size),
 * would otherwise each cost a call into RocksDB (a memtable and level search through JNI, and a new array), a
 * measured 5-7% of a node's CPU under the side-by-side benchmark. The store writes through it, so it never holds a
 * value that the store does not; a restore or a failed write empties it.
 *
 * <p>Not thread-safe: the store's caller (the state machine) holds its lock around every call.
 */
final class ValueCache {
  /** Per entry besides the key's chars and the stored bytes: the map's entry, the String and the array headers. */
  static final int ENTRY_OVERHEAD = 112;

  private final long maxBytes;
  /** Values bigger than this are not kept: one large value must not push out thousands of hot small ones. */
  private final long maxEntryBytes;
  private final LinkedHashMap<String, byte[]> entries = new LinkedHashMap<>(256, 0.75f, true);
  private long bytes;
  private long hits;
  private long misses;

  /** A cache of at most {@code maxBytes} (0: off). */
  ValueCache(long maxBytes) {
    if (maxBytes < 0) throw new IllegalArgumentException("the value cache size must be >= 0, got " + maxBytes);
    this.maxBytes = maxBytes;
    this.maxEntryBytes = maxBytes / 16;
  }

  /** The stored form of {@code key}'s value, or null when it is not cached (which says nothing of the store). */
  byte[] get(String key) {
    byte[] v = entries.get(key);
    if (v == null) misses++;
    else hits++;
    return v;
  }

  /** {@code stored} is now {@code key}'s value in the store (the caller no longer writes to the array). */
  void put(String key, byte[] stored) {
    long cost = cost(key, stored);
    if (cost > maxEntryBytes) {
      remove(key);
      return;
    }
    byte[] old = entries.put(key, stored);
    bytes += cost - (old == null ? 0 : cost(key, old));
    if (bytes > maxBytes) evict();
  }

  /** {@code key} has no value in the store any more (or may have another one than cached). */
  void remove(String key) {
    byte[] old = entries.remove(key);
    if (old != null) bytes -= cost(key, old);
  }

  void clear() {
    entries.clear();
    bytes = 0;
  }

  long bytes() {
    return bytes;
  }

  int size() {
    return entries.size();
  }

  long hits() {
    return hits;
  }

  long misses() {
    return misses;
  }

  private void evict() {
    Iterator<Map.Entry<String, byte[]>> eldest = entries.entrySet().iterator();
    while (bytes > maxBytes && eldest.hasNext()) {
      Map.Entry<String, byte[]> e = eldest.next();
      bytes -= cost(e.getKey(), e.getValue());
      eldest.remove();
    }
  }

  static long cost(String key, byte[] stored) {
    return ENTRY_OVERHEAD + 2L * key.length() + stored.length;
  }
}
