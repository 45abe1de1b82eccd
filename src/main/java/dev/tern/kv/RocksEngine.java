package dev.tern.kv;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.Cache;
import org.rocksdb.CompressionType;
import org.rocksdb.FlushOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.TablePropertiesCollectorFactory;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * What every RocksDB instance of one {@link RocksKvStore} shares: the options, the one block cache that bounds the
 * engine's memory (memtables are charged to it through a {@link WriteBufferManager}), and the write options (no
 * RocksDB WAL: the Raft log is the write-ahead log). Freed once the store is closed and every instance it opened is.
 */
final class RocksEngine {
  static {
    RocksNative.load();
  }

  private final Cache cache;
  private final WriteBufferManager writeBuffers;
  private final TablePropertiesCollectorFactory deletionsTriggerCompaction =
      TablePropertiesCollectorFactory.NewCompactOnDeletionCollectorFactory(1000, 500, 0.5);
  private final Options options;
  final WriteOptions writeOptions = new WriteOptions().setDisableWAL(true);
  /** The store, until closed, and every open instance (a view may outlive the store). */
  private final AtomicInteger users = new AtomicInteger(1);

  /** Per level, 0 to 6 (RocksDB's default number of levels). */
  static final List<CompressionType> LEVEL_COMPRESSION = List.of(CompressionType.NO_COMPRESSION,
      CompressionType.NO_COMPRESSION, CompressionType.LZ4_COMPRESSION, CompressionType.LZ4_COMPRESSION,
      CompressionType.LZ4_COMPRESSION, CompressionType.ZSTD_COMPRESSION, CompressionType.ZSTD_COMPRESSION);

  RocksEngine(RocksKvStore.Settings settings) {
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
        .setMaxLogFileSize(4 << 20)
        // One writer (the replica's thread): the concurrent memtable insert and the writers' spin-wait cost it time
        // for nothing.
        .setAllowConcurrentMemtableWrite(false)
        .setEnableWriteThreadAdaptiveYield(false)
        // Every put reads the key first (its old size and revision): a memtable bloom filter answers the misses.
        .setMemtablePrefixBloomSizeRatio(0.05)
        .setMemtableWholeKeyFiltering(true)
        // As TiKV does: levels 0 and 1 uncompressed (they are small and rewritten most often, so compressing them costs
        // CPU on every flush and compaction: Snappy was about 40% of compaction's CPU under 64-connection overwrites),
        // LZ4 in the middle, ZSTD at the bottom, where nearly all the data of a large store lies.
        .setCompressionPerLevel(LEVEL_COMPRESSION)
        .setBottommostCompressionType(CompressionType.ZSTD_COMPRESSION);
    // Space freed by deletes comes back in the background: a table file that holds many deletions (500 in any 1,000
    // entries, or half of it) is marked for compaction, which drops the deleted values it covers. No stop-the-world
    // step like bbolt's defragmentation.
    options.setTablePropertiesCollectorFactory(List.of(deletionsTriggerCompaction));
  }

  /** Opens (creating) the instance in {@code storeDir}. */
  Handle open(Path storeDir) throws RocksDBException {
    Handle h = new Handle(RocksDB.open(options, storeDir.toString()), storeDir);
    users.incrementAndGet();
    return h;
  }

  /** The block cache's use now: data, index and filter blocks, and the memtables. */
  long cacheUsage() {
    return cache.getUsage();
  }

  /** The store no longer needs the engine; it is freed once every instance is closed too. */
  void release() {
    if (users.decrementAndGet() > 0) return;
    writeOptions.close();
    options.close();
    deletionsTriggerCompaction.close();
    writeBuffers.close();
    cache.close();
  }

  /** A RocksDB instance and who uses it: the store, and views still being read. Closed when the last lets go. */
  final class Handle {
    final RocksDB rocks;
    final Path dir;
    private final AtomicInteger refs = new AtomicInteger(1);
    /** Replaced by a restored store: its directory is deleted once closed. */
    volatile boolean obsolete;

    private Handle(RocksDB rocks, Path dir) {
      this.rocks = rocks;
      this.dir = dir;
    }

    void retain() {
      refs.incrementAndGet();
    }

    void release() {
      if (refs.decrementAndGet() > 0) return;
      rocks.close();
      if (obsolete) RocksStoreDirs.deleteTree(dir);
      RocksEngine.this.release();
    }

    /** Writes the memtables to files and waits: everything written so far is durable. */
    void flush() throws IOException {
      try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
        rocks.flush(flush);
      } catch (RocksDBException e) {
        throw new IOException("flushing the key-value store in " + dir + ": " + e.getMessage(), e);
      }
    }
  }
}
