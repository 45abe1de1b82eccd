package dev.tern.kv;

import static dev.tern.kv.RocksRecords.APPLIED;
import static dev.tern.kv.RocksRecords.KEY;
import static dev.tern.kv.RocksRecords.LEASE;
import static dev.tern.kv.RocksRecords.LEASE_KEY;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key-value state on disk, in RocksDB (docs/storage.md, section 12; the records: {@link RocksRecords}).
 *
 * <p>The changes of a batch of applied entries and the last one's index go to RocksDB in one {@link WriteBatch} (a
 * batch is what the replica applies at once, cut at {@link #MAX_BATCH_BYTES}), with RocksDB's own
 * write-ahead log off: the Raft log is the write-ahead log. A crash loses the memtable, so the stored applied index may
 * lag; the node then replays the Raft log after it, which log compaction keeps because every snapshot first makes the
 * store durable past the snapshot's index ({@link View#makeDurable}). One column family keeps every flush a prefix of
 * the writes, so data and applied index never disagree after a crash.
 *
 * <p>Memory: one block cache bounds the engine ({@link RocksEngine}). The leases and the window are mirrored in the
 * heap (both bounded). A restored snapshot replaces the whole store at once ({@link RocksLoader}, {@link RocksStoreDirs}).
 */
public final class RocksKvStore implements KvStore {
  private static final Logger log = LoggerFactory.getLogger(RocksKvStore.class);
  private static final VersionedValue DELETED = new VersionedValue(Bytes.EMPTY, -1);

  static {
    RocksNative.load(); // before the first RocksDB object: the fields below are made before the engine
  }

  /**
   * The engine's memory: the block cache, of which the memtables may use {@code writeBufferBytes}; and in the heap, the
   * hot values' cache ({@link ValueCache}, 0: off).
   */
  public record Settings(long blockCacheBytes, long writeBufferBytes, long valueCacheBytes) {
    /** The value cache of stores made for tests and tools that do not say. */
    static final long SMALL_VALUE_CACHE = 4 << 20;

    public Settings {
      if (blockCacheBytes < 1 << 20) throw new IllegalArgumentException("block cache must be at least 1 MiB, got " + blockCacheBytes);
      if (writeBufferBytes < 1 << 20 || writeBufferBytes > blockCacheBytes) {
        throw new IllegalArgumentException("write buffers must be at least 1 MiB and at most the block cache ("
            + blockCacheBytes + "), got " + writeBufferBytes);
      }
      if (valueCacheBytes < 0) throw new IllegalArgumentException("the value cache must be >= 0, got " + valueCacheBytes);
    }

    public Settings(long blockCacheBytes, long writeBufferBytes) {
      this(blockCacheBytes, writeBufferBytes, SMALL_VALUE_CACHE);
    }

    public static Settings fromConfig(com.typesafe.config.Config tern) {
      return new Settings(tern.getBytes("storage.block-cache-size"), tern.getBytes("storage.write-buffer-size"),
          tern.getBytes("storage.value-cache-size"));
    }
  }

  private final Path dir;
  private final Consumer<KvEvent> changes;
  private final RocksEngine engine;
  private final ReadOptions readOptions = new ReadOptions();
  private final WriteBatch batch = new WriteBatch();
  /** The staged entries' changes, which the next entries (and a transaction's own reads) must see before the commit. */
  private final Map<String, VersionedValue> pending = new HashMap<>();
  private final LeaseTable leases = new LeaseTable();
  /** The hot keys' values, written through: what a read or a put's look-up of the old value finds without RocksDB. */
  private final ValueCache cache;
  /** The deduplication window's records: one per commit. */
  private final RocksWindow window = new RocksWindow();
  /** The window as read at open, until the state machine asks for it (once). */
  private List<Remembered> openedWindow;

  private RocksEngine.Handle db;
  private long appliedIndex;
  /** The last entry ended, whose changes are in {@link #batch} until the commit (appliedIndex when none). */
  private long stagedIndex;
  private long keyCount;
  private long dataBytes;

  private RocksKvStore(Path dir, Settings settings, Consumer<KvEvent> changes) {
    this.dir = dir;
    this.changes = Objects.requireNonNull(changes, "changes");
    this.engine = new RocksEngine(settings);
    this.cache = new ValueCache(settings.valueCacheBytes());
  }

  /**
   * Opens the store in {@code dir} (creating an empty one if there is none) and reads its bookkeeping: applied
   * index, sizes, leases and window; nothing in proportion to the data.
   */
  public static RocksKvStore open(Path dir, Settings settings, Consumer<KvEvent> changes) {
    RocksKvStore s = new RocksKvStore(dir, settings, changes);
    try {
      Path current = RocksStoreDirs.current(dir);
      RocksStoreDirs.deleteOthers(dir, current);
      s.db = s.engine.open(current);
      s.readBookkeeping();
    } catch (IOException | RocksDBException | RuntimeException e) {
      s.close();
      throw new IllegalStateException("cannot open the key-value store in " + dir + ": " + e.getMessage(), e);
    }
    log.info("Opened the key-value store in {}: {} keys, {} bytes of data, applied up to index {}", dir, s.keyCount,
        s.dataBytes, s.appliedIndex);
    return s;
  }

  private void readBookkeeping() throws RocksDBException {
    Bookkeeping b = Bookkeeping.read(db.rocks);
    appliedIndex = b.appliedIndex();
    keyCount = b.keyCount();
    dataBytes = b.dataBytes();
    stagedIndex = appliedIndex;
    leases.replaceAll(b.leases());
    openedWindow = window.read(db.rocks, readOptions);
  }

  /** What a store keeps besides the keys, read when it is opened: applied index, sizes and the leases. */
  record Bookkeeping(long appliedIndex, long keyCount, long dataBytes, List<Lease> leases) {
    static Bookkeeping read(RocksDB rocks) throws RocksDBException {
      long index = 0;
      long keys = 0;
      long bytes = 0;
      byte[] applied = rocks.get(APPLIED);
      if (applied != null) {
        ByteBuffer b = ByteBuffer.wrap(applied);
        index = b.getLong();
        keys = b.getLong();
        bytes = b.getLong();
      }
      TreeMap<Long, long[]> found = new TreeMap<>();
      Map<Long, List<String>> keysOf = new HashMap<>();
      try (RocksIterator it = rocks.newIterator()) {
        for (it.seek(new byte[] {LEASE}); it.isValid() && it.key()[0] == LEASE; it.next()) {
          ByteBuffer v = ByteBuffer.wrap(it.value());
          found.put(RocksRecords.leaseIdOf(it.key()), new long[] {v.getLong(), v.getLong()});
        }
        for (it.seek(new byte[] {LEASE_KEY}); it.isValid() && it.key()[0] == LEASE_KEY; it.next()) {
          keysOf.computeIfAbsent(RocksRecords.leaseIdOf(it.key()), x -> new ArrayList<>()).add(RocksRecords.leasedKeyOf(it.key()));
        }
      }
      List<Lease> list = new ArrayList<>();
      for (Map.Entry<Long, long[]> e : found.entrySet()) {
        list.add(new Lease(e.getKey(), e.getValue()[0], e.getValue()[1], keysOf.getOrDefault(e.getKey(), List.of())));
      }
      return new Bookkeeping(index, keys, bytes, list);
    }
  }

  // ---- reads -------------------------------------------------------------------------------------------------------

  @Override
  public Optional<VersionedValue> get(String key) {
    Objects.requireNonNull(key, "key");
    VersionedValue p = pending.get(key);
    if (p != null) return p == DELETED ? Optional.empty() : Optional.of(p);
    byte[] cached = cache.get(key);
    if (cached != null) return Optional.of(RocksRecords.decodeValue(cached));
    try {
      byte[] v = db.rocks.get(readOptions, RocksRecords.dataKey(key));
      if (v == null) return Optional.empty();
      cache.put(key, v); // not pending, so what RocksDB holds is the key's value
      return Optional.of(RocksRecords.decodeValue(v));
    } catch (RocksDBException e) {
      throw failed("reading " + key, e);
    }
  }

  @Override
  public List<KeyValue> range(String prefix, int limit) {
    Objects.requireNonNull(prefix, "prefix");
    if (limit < 1) throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    byte[] from = RocksRecords.dataKey(prefix);
    List<KeyValue> out = new ArrayList<>(Math.min(limit, 64));
    try (RocksIterator it = db.rocks.newIterator(readOptions)) {
      for (it.seek(from); it.isValid() && out.size() < limit; it.next()) {
        byte[] k = it.key();
        if (!RocksRecords.startsWith(k, from)) break; // keys sharing a prefix are contiguous in byte order
        VersionedValue v = RocksRecords.decodeValue(it.value());
        out.add(new KeyValue(RocksRecords.keyOf(k), v.value(), v.revision()));
      }
    }
    return out;
  }

  @Override
  public long size() {
    return keyCount;
  }

  @Override
  public long dataBytes() {
    return dataBytes;
  }

  @Override
  public String digest() {
    KvDigest d = new KvDigest();
    forEachKeyInMemory(db, readOptions, d::entry);
    return d.finish(leases.all());
  }

  @Override
  public SortedMap<String, VersionedValue> snapshot() {
    TreeMap<String, VersionedValue> copy = new TreeMap<>(KEY_ORDER);
    forEachKeyInMemory(db, readOptions, copy::put);
    return java.util.Collections.unmodifiableSortedMap(copy);
  }

  /** As below, for a consumer that cannot fail (a digest, a copy). */
  private static void forEachKeyInMemory(RocksEngine.Handle db, ReadOptions read, BiConsumer<String, VersionedValue> each) {
    try {
      forEachKey(db, read, (EntryConsumer) each::accept);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void forEachKey(RocksEngine.Handle db, ReadOptions read, EntryConsumer each) throws IOException {
    try (RocksIterator it = db.rocks.newIterator(read)) {
      for (it.seek(new byte[] {KEY}); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (k[0] != KEY) break;
        each.accept(RocksRecords.keyOf(k), RocksRecords.decodeValue(it.value()));
      }
    }
  }

  // ---- changes (within an entry, until commit) -------------------------------------------------------------------------

  @Override
  public void put(String key, Bytes value, long revision, long lease) {
    VersionedValue old = get(key).orElse(null);
    if (old == null) {
      keyCount++;
      dataBytes += MemoryKvStore.entryBytes(key, value);
    } else {
      dataBytes += value.length() - old.value().length();
    }
    VersionedValue now = new VersionedValue(value, revision);
    pending.put(key, now);
    try {
      byte[] stored = RocksRecords.encodeValue(now);
      batch.put(RocksRecords.dataKey(key), stored);
      cache.put(key, stored);
      long before = leases.leaseOf(key);
      leases.attach(key, lease);
      if (before != lease) {
        if (before != KvCommand.NO_LEASE) batch.delete(RocksRecords.leaseKeyKey(before, key));
        if (lease != KvCommand.NO_LEASE) batch.put(RocksRecords.leaseKeyKey(lease, key), new byte[0]);
      }
    } catch (RocksDBException e) {
      throw failed("writing " + key, e);
    }
    changes.accept(new KvEvent(revision, key, value));
  }

  @Override
  public boolean remove(String key, long revision) {
    VersionedValue old = get(key).orElse(null);
    if (old == null) return false;
    deleteKey(key, old);
    try {
      long before = leases.leaseOf(key);
      leases.detach(key);
      if (before != KvCommand.NO_LEASE) batch.delete(RocksRecords.leaseKeyKey(before, key));
    } catch (RocksDBException e) {
      throw failed("deleting " + key, e);
    }
    changes.accept(new KvEvent(revision, key, null));
    return true;
  }

  private void deleteKey(String key, VersionedValue old) {
    keyCount--;
    dataBytes -= MemoryKvStore.entryBytes(key, old.value());
    pending.put(key, DELETED);
    cache.remove(key);
    try {
      batch.delete(RocksRecords.dataKey(key));
    } catch (RocksDBException e) {
      throw failed("deleting " + key, e);
    }
  }

  @Override
  public boolean leaseExists(long lease) {
    return leases.exists(lease);
  }

  @Override
  public void grantLease(long index, long ttlMillis) {
    leases.grant(index, ttlMillis);
    putLease(index, ttlMillis, index);
  }

  @Override
  public boolean renewLease(long lease, long index) {
    if (!leases.renew(lease, index)) return false;
    putLease(lease, leases.ttl(lease), index);
    return true;
  }

  private void putLease(long id, long ttlMillis, long renewedAt) {
    try {
      batch.put(RocksRecords.leaseRecordKey(id), RocksRecords.leaseRecord(ttlMillis, renewedAt));
    } catch (RocksDBException e) {
      throw failed("writing lease " + id, e);
    }
  }

  @Override
  public List<String> endLease(long lease, long revision) {
    List<String> keys = leases.end(lease);
    try {
      batch.delete(RocksRecords.leaseRecordKey(lease));
      batch.deleteRange(RocksRecords.leaseKeyKey(lease, ""), RocksRecords.leaseKeyKey(lease + 1, ""));
    } catch (RocksDBException e) {
      throw failed("ending lease " + lease, e);
    }
    for (String key : keys) {
      VersionedValue old = get(key).orElse(null);
      if (old != null) deleteKey(key, old);
      changes.accept(new KvEvent(revision, key, null));
    }
    return keys;
  }

  @Override
  public Lease lease(long lease) {
    return leases.get(lease);
  }

  @Override
  public int leaseCount() {
    return leases.size();
  }

  @Override
  public List<Lease> leases() {
    return leases.all();
  }

  @Override
  public long leaseOf(String key) {
    return leases.leaseOf(key);
  }

  @Override
  public List<Remembered> window() {
    List<Remembered> w = openedWindow;
    openedWindow = null;
    return w != null ? w : window.read(db.rocks, readOptions);
  }

  @Override
  public void remember(Remembered r) {
    try {
      window.remember(r, batch);
    } catch (RocksDBException e) {
      throw failed("writing the window", e);
    }
  }

  @Override
  public void forget(long seq) {
    try {
      window.forget(seq, batch);
    } catch (RocksDBException e) {
      throw failed("writing the window", e);
    }
  }

  @Override
  public long appliedIndex() {
    return appliedIndex;
  }

  /**
   * Past this many bytes of staged changes the store commits at the next entry's end: a long replay after a restart
   * applies thousands of entries in one go, and the batch (and the pending map beside it) would hold them all.
   */
  static final long MAX_BATCH_BYTES = 4 << 20;

  @Override
  public void endEntry(long index) {
    stagedIndex = index;
    if (batch.getDataSize() >= MAX_BATCH_BYTES) commit();
  }

  /** Writes the staged entries' changes and the last one's index as one batch (no RocksDB WAL: the Raft log is the WAL). */
  @Override
  public void commit() {
    if (stagedIndex == appliedIndex && batch.count() == 0 && !window.hasStaged()) return;
    try {
      window.stage(batch);
      batch.put(APPLIED, RocksRecords.applied(stagedIndex, keyCount, dataBytes));
      db.rocks.write(engine.writeOptions, batch);
      window.committed();
    } catch (RocksDBException e) {
      cache.clear(); // it holds the batch's values, which RocksDB may not
      window.aborted();
      throw failed("applying entries up to " + stagedIndex, e);
    } finally {
      batch.clear();
      pending.clear();
    }
    appliedIndex = stagedIndex;
  }

  // ---- snapshots -------------------------------------------------------------------------------------------------------

  @Override
  public boolean durable() {
    return true;
  }

  /**
   * A RocksDB snapshot of the last committed entry: constant time, no copy. Reading it first flushes the memtables,
   * so that the store is durable up to at least the view's index before a snapshot through that index lets the Raft
   * log be compacted.
   */
  @Override
  public View view() {
    commit(); // a view covers every ended entry
    RocksEngine.Handle held = db;
    held.retain();
    Snapshot snap = held.rocks.getSnapshot();
    long keys = keyCount;
    return new View() {
      private boolean closed;

      @Override
      public long keyCount() {
        return keys;
      }

      @Override
      public void makeDurable() throws IOException {
        if (closed) throw new IllegalStateException("the view is closed");
        held.flush();
      }

      @Override
      public void forEach(EntryConsumer each) throws IOException {
        makeDurable();
        try (ReadOptions read = new ReadOptions().setSnapshot(snap).setFillCache(false)) {
          forEachKey(held, read, each);
        }
      }

      @Override
      public synchronized void close() {
        if (closed) return;
        closed = true;
        held.rocks.releaseSnapshot(snap);
        held.release();
      }
    };
  }

  /**
   * A RocksDB checkpoint of the last ended entry ({@link RocksCheckpoint}): the caller holds the state machine's lock,
   * so it is at exactly the applied index.
   */
  @Override
  public Checkpoint checkpoint() {
    commit();
    return RocksCheckpoint.take(db.rocks, dir, appliedIndex);
  }

  @Override
  public FileLoader loadFiles() {
    return new RocksFileLoader(this, engine, RocksStoreDirs.next(db.dir));
  }

  @Override
  public Loader load() {
    return new RocksLoader(this, engine, RocksStoreDirs.next(db.dir));
  }

  /** A loaded store takes this one's place ({@link RocksLoader#finish}); the old instance goes once unused. */
  void install(RocksEngine.Handle fresh, List<Lease> leaseList, long index, long keys, long bytes) {
    RocksEngine.Handle old = db;
    db = fresh;
    batch.clear();
    pending.clear();
    cache.clear();
    appliedIndex = index;
    stagedIndex = index;
    keyCount = keys;
    dataBytes = bytes;
    leases.replaceAll(leaseList);
    window.read(fresh.rocks, readOptions); // the window the state machine reads next (or loaded itself): indexed
    openedWindow = null;
    old.obsolete = true;
    old.release();
  }

  /** Makes everything committed so far durable. */
  public void flush() {
    commit();
    try {
      db.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The RocksDB instance in force (for tests). */
  RocksDB rocksForTests() {
    return db.rocks;
  }

  /** Reads and look-ups of old values that the value cache answered (for tests). */
  long valueCacheHits() {
    return cache.hits();
  }

  @Override
  public ValueCacheStats valueCacheStats() {
    return new ValueCacheStats(cache.hits(), cache.misses(), cache.bytes());
  }

  /** The SST files' total size on disk, or -1. */
  @Override
  public long diskBytes() {
    try {
      return db.rocks.getLongProperty("rocksdb.total-sst-files-size");
    } catch (RocksDBException e) {
      return -1;
    }
  }

  /** The memory the engine uses now: block cache (memtables included) and table readers, or -1. */
  @Override
  public long engineMemoryBytes() {
    try {
      return engine.cacheUsage() + db.rocks.getLongProperty("rocksdb.estimate-table-readers-mem");
    } catch (RocksDBException e) {
      return -1;
    }
  }

  /** Flushes (with RocksDB's WAL off, what is not flushed is replayed from the Raft log), then closes. */
  @Override
  public void close() {
    if (db != null) {
      try {
        db.flush();
      } catch (IOException e) {
        log.warn("Flushing the key-value store at close failed: {}", e.getMessage());
      }
      db.release();
      db = null;
    }
    batch.close();
    readOptions.close();
    engine.release();
  }

  private IllegalStateException failed(String what, RocksDBException e) {
    return new IllegalStateException("the key-value store in " + dir + " failed " + what + ": " + e.getMessage(), e);
  }
}
