package dev.tern.kv;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A RocksDB checkpoint of a {@link RocksKvStore} in {@code <dir>/checkpoint-<index>-<n>}, the files a snapshot sent to a
 * follower or a backup is made of (docs/storage.md, section 7); {@link RocksFileLoader} is the other end. Closing it
 * deletes the directory (the store's own files stay).
 */
final class RocksCheckpoint implements KvStore.Checkpoint {
  private static final Logger log = LoggerFactory.getLogger(RocksCheckpoint.class);

  private final long index;
  private final Path at;
  private final List<Path> files;

  private RocksCheckpoint(long index, Path at, List<Path> files) {
    this.index = index;
    this.at = at;
    this.files = files;
  }

  /**
   * Takes one of {@code rocks}, whose last committed entry is {@code index}: RocksDB flushes the memtables (its WAL is
   * off, so that is the only way they get in), hard-links the table files and copies the few small ones. The time is
   * that of the flush, whatever the data.
   */
  static RocksCheckpoint take(RocksDB rocks, Path kvDir, long index) {
    Path at = RocksStoreDirs.checkpoint(kvDir, index);
    long started = System.nanoTime();
    List<Path> files;
    long bytes = 0;
    try (org.rocksdb.Checkpoint c = org.rocksdb.Checkpoint.create(rocks)) {
      c.createCheckpoint(at.toString());
      try (Stream<Path> list = Files.list(at)) {
        files = list.sorted().toList();
      }
      for (Path f : files) bytes += Files.size(f);
    } catch (RocksDBException | IOException e) {
      RocksStoreDirs.deleteTree(at);
      throw new IllegalStateException("the key-value store in " + kvDir + " failed to take a checkpoint: " + e.getMessage(), e);
    }
    log.info("Took a checkpoint of the key-value store at index {} in {} ms: {} files, {} bytes", index,
        (System.nanoTime() - started) / 1_000_000, files.size(), bytes);
    return new RocksCheckpoint(index, at, files);
  }

  @Override
  public long appliedIndex() {
    return index;
  }

  @Override
  public List<Path> files() {
    return files;
  }

  @Override
  public void close() {
    RocksStoreDirs.deleteTree(at);
  }
}
