package dev.tern.kv;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * Builds a restored snapshot's content in a new RocksDB instance beside the store in force, in batches of
 * {@value #BATCH_BYTES} bytes; {@link #finish} makes it durable, switches CURRENT to it and hands it to the store.
 * Dropped (directory and all) unless finished.
 */
final class RocksLoader implements KvStore.Loader {
  /** How much is written to RocksDB at a time. */
  static final int BATCH_BYTES = 4 << 20;

  private final RocksKvStore store;
  private final RocksEngine engine;
  private final RocksEngine.Handle fresh;
  private final WriteBatch loading = new WriteBatch();
  private final RocksWindow window = new RocksWindow();
  private long keys;
  private long bytes;
  private boolean finished;

  RocksLoader(RocksKvStore store, RocksEngine engine, Path storeDir) {
    this.store = store;
    this.engine = engine;
    RocksStoreDirs.deleteTree(storeDir);
    try {
      this.fresh = engine.open(storeDir);
    } catch (RocksDBException e) {
      throw new IllegalStateException("cannot create " + storeDir + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void put(String key, VersionedValue value) {
    try {
      loading.put(RocksRecords.dataKey(key), RocksRecords.encodeValue(value));
    } catch (RocksDBException e) {
      throw failed(e);
    }
    keys++;
    bytes += MemoryKvStore.entryBytes(key, value.value());
    if (loading.getDataSize() >= BATCH_BYTES) writeBatch();
  }

  @Override
  public boolean contains(String key) {
    writeBatch();
    try {
      return fresh.rocks.get(RocksRecords.dataKey(key)) != null;
    } catch (RocksDBException e) {
      throw failed(e);
    }
  }

  @Override
  public void remember(KvStore.Remembered r) {
    try {
      window.remember(r, loading);
    } catch (RocksDBException e) {
      throw failed(e);
    }
  }

  private void writeBatch() {
    try {
      fresh.rocks.write(engine.writeOptions, loading);
      loading.clear();
    } catch (RocksDBException e) {
      throw failed(e);
    }
  }

  @Override
  public void finish(List<Lease> leases, long index) {
    try {
      for (Lease l : leases) {
        loading.put(RocksRecords.leaseRecordKey(l.id()), RocksRecords.leaseRecord(l.ttlMillis(), l.renewedAt()));
        for (String key : l.keys()) loading.put(RocksRecords.leaseKeyKey(l.id(), key), new byte[0]);
      }
      window.stage(loading);
      loading.put(RocksRecords.APPLIED, RocksRecords.applied(index, keys, bytes));
      writeBatch();
      fresh.flush();
      RocksStoreDirs.switchTo(fresh.dir); // from here on a restart opens the new store
    } catch (RocksDBException | IOException e) {
      throw new IllegalStateException("cannot finish loading " + fresh.dir + ": " + e.getMessage(), e);
    }
    finished = true;
    store.install(fresh, leases, index, keys, bytes);
  }

  @Override
  public void close() {
    loading.close();
    if (finished) return;
    fresh.obsolete = true;
    fresh.release();
  }

  private IllegalStateException failed(RocksDBException e) {
    return new IllegalStateException("cannot load the snapshot into " + fresh.dir + ": " + e.getMessage(), e);
  }
}
