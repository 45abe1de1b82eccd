package dev.tern.kv;

import java.io.IOException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;

/**
 * The replicated data itself, with the bookkeeping that must change atomically with it: the applied index, the
 * leases and the deduplication window. {@link KvStateMachine} changes it entry by entry, ends each entry with
 * {@link #endEntry} and each batch of entries with {@link #commit}: what a store keeps durably is always the state after some whole entry, with that entry's index
 * ({@link #appliedIndex}), so a restarted node replays the Raft log after that index and nothing twice.
 *
 * <p>Keys are kept in {@link #KEY_ORDER}: the byte order of their UTF-8 encoding, which both stores share, so
 * ranges and {@link #digest()} agree on every replica. Not thread-safe: {@link KvStateMachine} guards it, but for
 * a {@link View}, which may be read on any thread.
 */
public interface KvStore extends AutoCloseable {

  /** Code point order, which is the order of the keys' UTF-8 bytes (RocksDB's bytewise order). */
  Comparator<String> KEY_ORDER = (a, b) -> {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) return Integer.compare(ca, cb);
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return i < a.length() ? 1 : j < b.length() ? -1 : 0;
  };

  Optional<VersionedValue> get(String key);

  /** A put with no lease: the key leaves any lease it belonged to (as in etcd). */
  default void put(String key, Bytes value, long revision) {
    put(key, value, revision, KvCommand.NO_LEASE);
  }

  /** A put attaching {@code key} to {@code lease}, which must exist ({@link #leaseExists}). */
  void put(String key, Bytes value, long revision, long lease);

  /**
   * Removes {@code key} by the command at {@code revision}.
   *
   * @return whether the key was present
   */
  boolean remove(String key, long revision);

  boolean leaseExists(long lease);

  /** A new lease whose id is {@code index}, the index of its grant (unique, and the same on every replica). */
  void grantLease(long index, long ttlMillis);

  /** @return whether the lease exists; if so its last renewal is now {@code index} */
  boolean renewLease(long lease, long index);

  /** Ends {@code lease} and deletes its keys at {@code revision}; returns them in key order. The lease must exist. */
  List<String> endLease(long lease, long revision);

  /** The lease, or null. */
  Lease lease(long lease);

  int leaseCount();

  /** Every lease, by id. */
  List<Lease> leases();

  /** The lease {@code key} belongs to, or {@link KvCommand#NO_LEASE}. */
  long leaseOf(String key);

  /** Keys starting with {@code prefix} ("" for all), in {@link #KEY_ORDER}, at most {@code limit}. */
  List<KeyValue> range(String prefix, int limit);

  /** How many keys there are. */
  long size();

  /** The live data's size in bytes: every key's UTF-8 length plus its value's length. */
  long dataBytes();

  /** SHA-256 of the content in key order, hex: equal on two replicas iff (barring collisions) their data is. */
  String digest();

  /** A copy of the whole content, for comparing replicas in tests: only for small stores. */
  SortedMap<String, VersionedValue> snapshot();

  // ---- the deduplication window (KvStateMachine's) -------------------------------------------------------------

  /** A remembered result: {@code seq} orders the window (oldest first). */
  record Remembered(long seq, String id, KvResult result) {}

  /** The window as stored, oldest first (empty for a new store). */
  List<Remembered> window();

  /** Adds a result to the window, with the entry being applied. */
  void remember(Remembered r);

  /** Drops the window's result {@code seq}, with the entry being applied. */
  void forget(long seq);

  // ---- durability -------------------------------------------------------------------------------------------------

  /** The index of the last entry whose changes the store holds (0 for a new store). */
  long appliedIndex();

  /**
   * Ends the entry at {@code index}. Its changes are staged with those of the entries before it since the last
   * {@link #commit}; reads through {@link #get} see them at once, the rest of the store after the commit.
   */
  void endEntry(long index);

  /**
   * Makes the entries ended since the last commit and the last one's index one atomic change: a store keeps the
   * state after a whole entry, never a part of one. A store may commit on its own in between (a batch that grows
   * large), always at an entry's end.
   */
  void commit();

  /**
   * A consistent view of the whole content after the last ended entry (committing what is staged), which later
   * changes do not alter, for a snapshot written out on another thread. Close it when done.
   */
  View view();

  /**
   * The engine's own point-in-time copy of the whole content after the last ended entry (committing what is staged):
   * files on disk that later changes do not touch (a RocksDB checkpoint: hard links to the table files), or null for a
   * store without files. A snapshot sent to another node, or a backup, is these files (docs/storage.md, section 12).
   * Close it when done: that deletes it.
   */
  default Checkpoint checkpoint() {
    return null;
  }

  /** See {@link #checkpoint()}. */
  interface Checkpoint extends AutoCloseable {
    /** The index of the last entry whose changes it holds. */
    long appliedIndex();

    /** Its files (names without directories), which together are a store. */
    List<java.nio.file.Path> files();

    /** Deletes the checkpoint's files (the store's own stay). */
    @Override
    void close();
  }

  /**
   * Starts replacing the whole content with a {@link Checkpoint}'s files, written one by one beside the store in
   * force, which readers keep seeing until {@link FileLoader#finish}.
   *
   * @throws UnsupportedOperationException for a store without files
   */
  default FileLoader loadFiles() {
    throw new UnsupportedOperationException("this key-value store (" + getClass().getSimpleName()
        + ") keeps no files: it cannot be restored from a checkpoint");
  }

  /** The files of a {@link #loadFiles}. */
  interface FileLoader extends AutoCloseable {
    /** A new file of the checkpoint; {@code name} is a plain file name. */
    java.io.OutputStream file(String name) throws IOException;

    /**
     * Makes the files durable and the store's content, which must hold the state at {@code index}.
     *
     * @throws IllegalArgumentException if the files are not a store at {@code index}
     */
    void finish(long index);

    /** Drops the files unless finished. */
    @Override
    void close();
  }

  /** The store's files on disk, in bytes; -1 for a store in memory. */
  default long diskBytes() {
    return -1;
  }

  /** The memory the storage engine uses outside the heap, in bytes; -1 for a store in memory. */
  default long engineMemoryBytes() {
    return -1;
  }

  /**
   * The heap cache of hot values in front of the engine (tern.storage.value-cache-size): look-ups it answered and
   * those it did not since the store opened, and the bytes it holds; all 0 for a store without one.
   */
  record ValueCacheStats(long hits, long misses, long bytes) {}

  default ValueCacheStats valueCacheStats() {
    return new ValueCacheStats(0, 0, 0);
  }

  /** Whether the store survives a restart (on disk), so that snapshots may refer to it instead of copying it. */
  default boolean durable() {
    return false;
  }

  /** A point-in-time view of the content. */
  interface View extends AutoCloseable {
    long keyCount();

    /** Makes the store durable up to at least the view's index (a flush; nothing for a store in memory). */
    default void makeDurable() throws IOException {}

    /** Every key with its value and revision, in {@link #KEY_ORDER}. */
    void forEach(EntryConsumer each) throws IOException;

    @Override
    void close();
  }

  /** Takes the entries of a {@link View}. */
  interface EntryConsumer {
    void accept(String key, VersionedValue value) throws IOException;
  }

  /**
   * Starts replacing the whole content (a snapshot being restored): the new content is built beside the current
   * one, which readers keep seeing until {@link Loader#finish}.
   */
  Loader load();

  /** The new content of a {@link #load}, given piece by piece. */
  interface Loader extends AutoCloseable {
    void put(String key, VersionedValue value);

    boolean contains(String key);

    void remember(Remembered r);

    /** Makes the new content, with {@code leases}, the store's, as applied up to {@code index}. */
    void finish(List<Lease> leases, long index);

    /** Drops the new content unless it was finished. */
    @Override
    void close();
  }

  @Override
  void close();
}
