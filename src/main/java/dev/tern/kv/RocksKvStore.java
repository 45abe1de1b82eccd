package dev.tern.kv;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Slice;
import org.rocksdb.Snapshot;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key-value state on disk, in RocksDB (docs/storage.md). One column family; every record's first byte says what
 * it is:
 *
 * <pre>
 * 'k' key (UTF-8)               -> [long revision][value]
 * 'm' "applied"                 -> [long applied index][long key count][long data bytes]
 * 'l' [long lease id]           -> [long ttl ms][long renewed at]
 * 'L' [long lease id] key       -> (empty): the keys a lease holds
 * 'd' [long seq]                -> [command id][result]: the deduplication window, oldest first
 * </pre>
 *
 * <p>Each applied entry's changes and the applied index go to RocksDB in one {@link WriteBatch}, with RocksDB's own
 * write-ahead log off: the Raft log is the write-ahead log. A crash loses the memtable, so the stored applied index
 * may lag; the node then replays the Raft log after it, which log compaction keeps because every snapshot first makes
 * the store durable past the snapshot's index ({@link View#forEach} flushes). One column family keeps every flush a
 * prefix of the writes, so data and applied index never disagree after a crash.
 *
 * <p>Memory: one LRU block cache holds data, index and filter blocks, and the memtables are charged to it
 * ({@link WriteBufferManager}): the engine's memory is one setting. The leases and the window are mirrored in the heap
 * (both bounded). The store's files are in {@code <dir>/store-<n>}; {@code <dir>/CURRENT} names the one in force, so
 * that a restored snapshot replaces the whole store at once.
 */
public final class RocksKvStore implements KvStore {
  private static final Logger log = LoggerFactory.getLogger(RocksKvStore.class);

  static {
    RocksDB.loadLibrary();
  }

  /** The engine's memory: the block cache, of which the memtables may use {@code writeBufferBytes}. */
  public record Settings(long blockCacheBytes, long writeBufferBytes) {
    public Settings {
      if (blockCacheBytes < 1 << 20) throw new IllegalArgumentException("block cache must be at least 1 MiB, got " + blockCacheBytes);
      if (writeBufferBytes < 1 << 20 || writeBufferBytes > blockCacheBytes) {
        throw new IllegalArgumentException("write buffers must be at least 1 MiB and at most the block cache ("
            + blockCacheBytes + "), got " + writeBufferBytes);
      }
    }

    public static Settings fromConfig(com.typesafe.config.Config tern) {
      return new Settings(tern.getBytes("storage.block-cache-size"), tern.getBytes("storage.write-buffer-size"));
    }

    /** The engine's memory outside the heap: the cache, the memtables counted in it, and some slack. */
    public long offHeapBytes() {
      return blockCacheBytes + (16L << 20);
    }
  }

  private static final byte KEY = 'k';
  private static final byte LEASE = 'l';
  private static final byte LEASE_KEY = 'L';
  private static final byte WINDOW = 'd';
  private static final byte[] APPLIED = {'m', 'a', 'p', 'p', 'l', 'i', 'e', 'd'};
  private static final String CURRENT = "CURRENT";
  private static final String STORE_PREFIX = "store-";
  /** A loader writes this much before it hands a batch to RocksDB. */
  private static final int LOAD_BATCH_BYTES = 4 << 20;
  private static final VersionedValue DELETED = new VersionedValue(Bytes.EMPTY, -1);

  private final Path dir;
  private final Consumer<KvEvent> changes;
  private final Cache cache;
  private final WriteBufferManager writeBuffers;
  private final Options options;
  private final WriteOptions writeOptions = new WriteOptions().setDisableWAL(true);
  private final ReadOptions readOptions = new ReadOptions();
  private final WriteBatch batch = new WriteBatch();
  /** This entry's changes, which reads within the entry (a transaction's) must see before they are written. */
  private final Map<String, VersionedValue> pending = new HashMap<>();
  private final LeaseTable leases = new LeaseTable();

  private Db db;
  private long appliedIndex;
  private long keyCount;
  private long dataBytes;

  /**
   * Who still needs the options and the cache: the store until it is closed, and every RocksDB instance until it is
   * (a view may outlive the store: a snapshot being written while the node stops).
   */
  private final AtomicInteger users = new AtomicInteger(1);

  /** A RocksDB instance and who uses it: the store, and views still being read. Closed when the last lets go. */
  private final class Db {
    final RocksDB rocks;
    final Path dir;
    final AtomicInteger refs = new AtomicInteger(1);
    volatile boolean obsolete;

    Db(RocksDB rocks, Path dir) {
      this.rocks = rocks;
      this.dir = dir;
      users.incrementAndGet();
    }

    void retain() {
      refs.incrementAndGet();
    }

    void release() {
      if (refs.decrementAndGet() > 0) return;
      rocks.close();
      if (obsolete) deleteTree(dir);
      releaseResources();
    }
  }

  private void releaseResources() {
    if (users.decrementAndGet() > 0) return;
    batch.close();
    writeOptions.close();
    readOptions.close();
    options.close();
    writeBuffers.close();
    cache.close();
  }

  private RocksKvStore(Path dir, Settings settings, Consumer<KvEvent> changes) {
    this.dir = dir;
    this.changes = Objects.requireNonNull(changes, "changes");
    this.cache = new LRUCache(settings.blockCacheBytes());
    this.writeBuffers = new WriteBufferManager(settings.writeBufferBytes(), cache);
    BlockBasedTableConfig table = new BlockBasedTableConfig()
        .setBlockCache(cache)
        .setCacheIndexAndFilterBlocks(true)
        .setPinL0FilterAndIndexBlocksInCache(true)
        .setFilterPolicy(new BloomFilter(10, false));
    this.options = new Options()
        .setCreateIfMissing(true)
        .setTableFormatConfig(table)
        .setWriteBufferManager(writeBuffers)
        .setWriteBufferSize(Math.max(1 << 20, settings.writeBufferBytes() / 2))
        .setMaxWriteBufferNumber(3)
        .setMaxBackgroundJobs(2)
        .setKeepLogFileNum(3)
        .setMaxLogFileSize(4 << 20);
  }

  /**
   * Opens the store in {@code dir} (creating an empty one if there is none) and reads its bookkeeping: applied
   * index, sizes, leases and window; nothing in proportion to the data.
   */
  public static RocksKvStore open(Path dir, Settings settings, Consumer<KvEvent> changes) {
    RocksKvStore s = new RocksKvStore(dir, settings, changes);
    try {
      Files.createDirectories(dir);
      Path current = s.currentStoreDir();
      s.deleteOthers(current);
      s.db = s.openDb(current);
      s.readBookkeeping();
    } catch (IOException | RocksDBException | RuntimeException e) {
      s.closeQuietly();
      throw new IllegalStateException("cannot open the key-value store in " + dir + ": " + e.getMessage(), e);
    }
    log.info("Opened the key-value store in {}: {} keys, {} bytes of data, applied up to index {}", dir, s.keyCount,
        s.dataBytes, s.appliedIndex);
    return s;
  }

  private Path currentStoreDir() throws IOException {
    Path pointer = dir.resolve(CURRENT);
    if (Files.exists(pointer)) {
      String name = Files.readString(pointer, StandardCharsets.UTF_8).trim();
      if (!name.startsWith(STORE_PREFIX) || name.contains("/")) throw new IOException(pointer + " names no store: " + name);
      return dir.resolve(name);
    }
    Path first = dir.resolve(STORE_PREFIX + 1);
    deleteTree(first);
    writePointer(first);
    return first;
  }

  /** Deletes what an interrupted restore or an old store left beside the one in force. */
  private void deleteOthers(Path current) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String name = p.getFileName().toString();
        if (name.startsWith(STORE_PREFIX) && !p.equals(current)) {
          log.info("Deleting {}, left over from an interrupted restore or replaced by a newer store", p);
          deleteTree(p);
        }
      }
    }
  }

  private Db openDb(Path storeDir) throws RocksDBException {
    return new Db(RocksDB.open(options, storeDir.toString()), storeDir);
  }

  private void readBookkeeping() throws RocksDBException {
    byte[] applied = db.rocks.get(APPLIED);
    if (applied != null) {
      ByteBuffer b = ByteBuffer.wrap(applied);
      appliedIndex = b.getLong();
      keyCount = b.getLong();
      dataBytes = b.getLong();
    }
    TreeMap<Long, long[]> found = new TreeMap<>();
    Map<Long, List<String>> keysOf = new HashMap<>();
    try (RocksIterator it = db.rocks.newIterator()) {
      for (it.seek(new byte[] {LEASE}); it.isValid() && it.key()[0] == LEASE; it.next()) {
        ByteBuffer v = ByteBuffer.wrap(it.value());
        found.put(ByteBuffer.wrap(it.key(), 1, 8).getLong(), new long[] {v.getLong(), v.getLong()});
      }
      for (it.seek(new byte[] {LEASE_KEY}); it.isValid() && it.key()[0] == LEASE_KEY; it.next()) {
        byte[] k = it.key();
        keysOf.computeIfAbsent(ByteBuffer.wrap(k, 1, 8).getLong(), x -> new ArrayList<>())
            .add(new String(k, 9, k.length - 9, StandardCharsets.UTF_8));
      }
    }
    List<Lease> list = new ArrayList<>();
    for (Map.Entry<Long, long[]> e : found.entrySet()) {
      list.add(new Lease(e.getKey(), e.getValue()[0], e.getValue()[1], keysOf.getOrDefault(e.getKey(), List.of())));
    }
    leases.replaceAll(list);
  }

  // ---- reads -------------------------------------------------------------------------------------------------------

  @Override
  public Optional<VersionedValue> get(String key) {
    Objects.requireNonNull(key, "key");
    VersionedValue p = pending.get(key);
    if (p != null) return p == DELETED ? Optional.empty() : Optional.of(p);
    try {
      byte[] v = db.rocks.get(readOptions, dataKey(key));
      return v == null ? Optional.empty() : Optional.of(decodeValue(v));
    } catch (RocksDBException e) {
      throw failed("reading " + key, e);
    }
  }

  @Override
  public List<KeyValue> range(String prefix, int limit) {
    Objects.requireNonNull(prefix, "prefix");
    if (limit < 1) throw new IllegalArgumentException("limit must be >= 1, got " + limit);
    byte[] from = dataKey(prefix);
    List<KeyValue> out = new ArrayList<>(Math.min(limit, 64));
    try (RocksIterator it = db.rocks.newIterator(readOptions)) {
      for (it.seek(from); it.isValid() && out.size() < limit; it.next()) {
        byte[] k = it.key();
        if (!startsWith(k, from)) break; // keys sharing a prefix are contiguous in byte order
        VersionedValue v = decodeValue(it.value());
        out.add(new KeyValue(new String(k, 1, k.length - 1, StandardCharsets.UTF_8), v.value(), v.revision()));
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
    forEachKeyUnchecked(db, readOptions, d::entry);
    return d.finish(leases.all());
  }

  @Override
  public SortedMap<String, VersionedValue> snapshot() {
    TreeMap<String, VersionedValue> copy = new TreeMap<>(KEY_ORDER);
    forEachKeyUnchecked(db, readOptions, copy::put);
    return java.util.Collections.unmodifiableSortedMap(copy);
  }

  private void forEachKeyUnchecked(Db db, ReadOptions read, java.util.function.BiConsumer<String, VersionedValue> each) {
    try {
      forEachKey(db, read, (EntryConsumer) each::accept);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void forEachKey(Db db, ReadOptions read, EntryConsumer each) throws IOException {
    try (RocksIterator it = db.rocks.newIterator(read)) {
      for (it.seek(new byte[] {KEY}); it.isValid(); it.next()) {
        byte[] k = it.key();
        if (k[0] != KEY) break;
        each.accept(new String(k, 1, k.length - 1, StandardCharsets.UTF_8), decodeValue(it.value()));
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
      batch.put(dataKey(key), encodeValue(now));
      long before = leases.leaseOf(key);
      leases.attach(key, lease);
      if (before != lease) {
        if (before != KvCommand.NO_LEASE) batch.delete(leaseKeyKey(before, key));
        if (lease != KvCommand.NO_LEASE) batch.put(leaseKeyKey(lease, key), new byte[0]);
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
      if (before != KvCommand.NO_LEASE) batch.delete(leaseKeyKey(before, key));
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
    try {
      batch.delete(dataKey(key));
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
      batch.put(leaseRecordKey(id), ByteBuffer.allocate(16).putLong(ttlMillis).putLong(renewedAt).array());
    } catch (RocksDBException e) {
      throw failed("writing lease " + id, e);
    }
  }

  @Override
  public List<String> endLease(long lease, long revision) {
    List<String> keys = leases.end(lease);
    try {
      batch.delete(leaseRecordKey(lease));
      batch.deleteRange(leaseKeyKey(lease, ""), leaseKeyKey(lease + 1, ""));
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
    List<Remembered> out = new ArrayList<>();
    try (RocksIterator it = db.rocks.newIterator(readOptions)) {
      for (it.seek(new byte[] {WINDOW}); it.isValid() && it.key()[0] == WINDOW; it.next()) {
        out.add(decodeRemembered(ByteBuffer.wrap(it.key(), 1, 8).getLong(), it.value()));
      }
    }
    return out;
  }

  @Override
  public void remember(Remembered r) {
    try {
      batch.put(windowKey(r.seq()), encodeRemembered(r));
    } catch (RocksDBException e) {
      throw failed("writing the window", e);
    }
  }

  @Override
  public void forget(long seq) {
    try {
      batch.delete(windowKey(seq));
    } catch (RocksDBException e) {
      throw failed("writing the window", e);
    }
  }

  @Override
  public long appliedIndex() {
    return appliedIndex;
  }

  /** Writes the entry's changes and the applied index as one batch (no RocksDB WAL: the Raft log is the WAL). */
  @Override
  public void commit(long index) {
    try {
      batch.put(APPLIED, bookkeeping(index, keyCount, dataBytes));
      db.rocks.write(writeOptions, batch);
    } catch (RocksDBException e) {
      throw failed("applying entry " + index, e);
    } finally {
      batch.clear();
      pending.clear();
    }
    appliedIndex = index;
  }

  private static byte[] bookkeeping(long index, long keys, long bytes) {
    return ByteBuffer.allocate(24).putLong(index).putLong(keys).putLong(bytes).array();
  }

  // ---- snapshots -------------------------------------------------------------------------------------------------------

  /**
   * A RocksDB snapshot of the last committed entry: constant time, no copy. Reading it first flushes the memtables,
   * so that the store is durable up to at least the view's index before a snapshot through that index lets the Raft
   * log be compacted.
   */
  @Override
  public View view() {
    Db held = db;
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
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
          held.rocks.flush(flush);
        } catch (RocksDBException e) {
          throw new IOException("flushing the key-value store: " + e.getMessage(), e);
        }
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

  @Override
  public boolean durable() {
    return true;
  }

  /** Makes everything committed so far durable (a clean stop; tests). */
  public void flush() {
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      db.rocks.flush(flush);
    } catch (RocksDBException e) {
      throw failed("flushing", e);
    }
  }

  @Override
  public Loader load() {
    Path next = nextStoreDir();
    Db fresh;
    try {
      deleteTree(next);
      fresh = openDb(next);
    } catch (RocksDBException e) {
      throw failed("creating " + next, e);
    }
    return new Loader() {
      private final WriteBatch loading = new WriteBatch();
      private long keys;
      private long bytes;
      private boolean finished;

      @Override
      public void put(String key, VersionedValue value) {
        try {
          loading.put(dataKey(key), encodeValue(value));
        } catch (RocksDBException e) {
          throw failed("loading " + key, e);
        }
        keys++;
        bytes += MemoryKvStore.entryBytes(key, value.value());
        if (loading.getDataSize() >= LOAD_BATCH_BYTES) writeBatch();
      }

      @Override
      public boolean contains(String key) {
        writeBatch();
        try {
          return fresh.rocks.get(dataKey(key)) != null;
        } catch (RocksDBException e) {
          throw failed("reading " + key, e);
        }
      }

      @Override
      public void remember(Remembered r) {
        try {
          loading.put(windowKey(r.seq()), encodeRemembered(r));
        } catch (RocksDBException e) {
          throw failed("loading the window", e);
        }
      }

      private void writeBatch() {
        try {
          fresh.rocks.write(writeOptions, loading);
          loading.clear();
        } catch (RocksDBException e) {
          throw failed("loading into " + next, e);
        }
      }

      @Override
      public void finish(List<Lease> leaseList, long index) {
        try {
          for (Lease l : leaseList) {
            loading.put(leaseRecordKey(l.id()), ByteBuffer.allocate(16).putLong(l.ttlMillis()).putLong(l.renewedAt()).array());
            for (String key : l.keys()) loading.put(leaseKeyKey(l.id(), key), new byte[0]);
          }
          loading.put(APPLIED, bookkeeping(index, keys, bytes));
          writeBatch();
          try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            fresh.rocks.flush(flush);
          }
          writePointer(next); // the switch: from here on a restart opens the new store
        } catch (RocksDBException | IOException e) {
          throw new IllegalStateException("cannot finish loading " + next + ": " + e.getMessage(), e);
        }
        Db old = db;
        db = fresh;
        finished = true;
        batch.clear();
        pending.clear();
        appliedIndex = index;
        keyCount = keys;
        dataBytes = bytes;
        leases.replaceAll(leaseList);
        old.obsolete = true;
        old.release();
      }

      @Override
      public void close() {
        loading.close();
        if (finished) return;
        fresh.obsolete = true;
        fresh.release();
      }
    };
  }

  private Path nextStoreDir() {
    String name = db.dir.getFileName().toString();
    long n = Long.parseLong(name.substring(STORE_PREFIX.length()));
    return dir.resolve(STORE_PREFIX + (n + 1));
  }

  /** Points CURRENT at {@code storeDir}, durably: a new file, fsynced, renamed over the old one, directory fsynced. */
  private void writePointer(Path storeDir) throws IOException {
    Path tmp = dir.resolve(CURRENT + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap((storeDir.getFileName() + "\n").getBytes(StandardCharsets.UTF_8)));
      ch.force(true);
    }
    Files.move(tmp, dir.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /** What RocksDB estimates the live data takes on disk, and the SST files' total size (metrics). */
  public long diskBytes() {
    try {
      return db.rocks.getLongProperty("rocksdb.total-sst-files-size");
    } catch (RocksDBException e) {
      return -1;
    }
  }

  /** The memory the engine uses now: block cache (memtables included) and table readers. */
  public long engineMemoryBytes() {
    try {
      return cache.getUsage() + db.rocks.getLongProperty("rocksdb.estimate-table-readers-mem");
    } catch (RocksDBException e) {
      return -1;
    }
  }

  @Override
  public void close() {
    if (db == null) return;
    try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
      db.rocks.flush(flush);
    } catch (RocksDBException e) {
      log.warn("Flushing the key-value store at close failed: {}", e.getMessage());
    }
    closeQuietly();
  }

  private void closeQuietly() {
    if (db != null) {
      db.release();
      db = null;
    }
    releaseResources();
  }

  // ---- encodings --------------------------------------------------------------------------------------------------

  private static byte[] dataKey(String key) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[k.length + 1];
    out[0] = KEY;
    System.arraycopy(k, 0, out, 1, k.length);
    return out;
  }

  private static byte[] leaseRecordKey(long id) {
    return ByteBuffer.allocate(9).put(LEASE).putLong(id).array();
  }

  private static byte[] leaseKeyKey(long id, String key) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(9 + k.length).put(LEASE_KEY).putLong(id).put(k).array();
  }

  private static byte[] windowKey(long seq) {
    return ByteBuffer.allocate(9).put(WINDOW).putLong(seq).array();
  }

  private static byte[] encodeValue(VersionedValue v) {
    byte[] out = new byte[8 + v.value().length()];
    ByteBuffer.wrap(out).putLong(v.revision()).put(v.value().asReadOnlyBuffer());
    return out;
  }

  private static VersionedValue decodeValue(byte[] stored) {
    return new VersionedValue(Bytes.wrap(stored, 8, stored.length - 8), ByteBuffer.wrap(stored).getLong());
  }

  private static byte[] encodeRemembered(Remembered r) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      KvSnapshotCodec.string(out, r.id());
      KvSnapshotCodec.result(out, r.result());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static Remembered decodeRemembered(long seq, byte[] stored) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(stored))) {
      return new Remembered(seq, KvSnapshotCodec.string(in), KvSnapshotCodec.result(in));
    } catch (IOException e) {
      throw new IllegalStateException("a damaged window record " + seq + " in the key-value store", e);
    }
  }

  private static boolean startsWith(byte[] a, byte[] prefix) {
    return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
  }

  private IllegalStateException failed(String what, RocksDBException e) {
    return new IllegalStateException("the key-value store in " + dir + " failed " + what + ": " + e.getMessage(), e);
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) return;
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + p, e);
    }
  }
}
