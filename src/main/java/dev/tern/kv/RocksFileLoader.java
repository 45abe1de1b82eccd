package dev.tern.kv;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.rocksdb.RocksDBException;

/**
 * Builds a store from a checkpoint's files (a snapshot sent by the leader, a backup) in a new directory beside the
 * store in force; {@link #finish} fsyncs them, opens them, checks the applied index they hold, switches CURRENT to
 * them and hands them to the store. Dropped (directory and all) unless finished.
 */
final class RocksFileLoader implements KvStore.FileLoader {
  /** RocksDB's own file names (000012.sst, MANIFEST-000005, CURRENT, OPTIONS-000007): nothing that leaves the directory. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private final RocksKvStore store;
  private final RocksEngine engine;
  private final Path dir;
  private final List<Path> written = new ArrayList<>();
  private RocksEngine.Handle fresh;
  private boolean finished;

  RocksFileLoader(RocksKvStore store, RocksEngine engine, Path storeDir) {
    this.store = store;
    this.engine = engine;
    this.dir = storeDir;
    RocksStoreDirs.deleteTree(storeDir);
    try {
      Files.createDirectories(storeDir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + storeDir + ": " + e.getMessage(), e);
    }
  }

  @Override
  public OutputStream file(String name) throws IOException {
    if (!NAME.matcher(name).matches()) throw new IllegalArgumentException("not a key-value store file's name: " + name);
    Path p = dir.resolve(name);
    if (written.contains(p)) throw new IllegalArgumentException("the checkpoint holds " + name + " twice");
    written.add(p);
    return new BufferedOutputStream(Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16);
  }

  @Override
  public void finish(long index) {
    RocksKvStore.Bookkeeping b;
    try {
      // Without CURRENT, RocksDB would open an empty store where the files are.
      if (!written.contains(dir.resolve("CURRENT"))) throw new IllegalArgumentException("the checkpoint has no CURRENT file");
      for (Path p : written) {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
          ch.force(true);
        }
      }
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
      fresh = engine.open(dir);
      b = RocksKvStore.Bookkeeping.read(fresh.rocks);
      if (b.appliedIndex() != index) {
        throw new IllegalArgumentException("the checkpoint holds the state at index " + b.appliedIndex() + ", not " + index);
      }
      RocksStoreDirs.switchTo(dir); // from here on a restart opens the new store
    } catch (RocksDBException | IOException e) {
      throw new IllegalStateException("cannot open the checkpoint's files in " + dir + ": " + e.getMessage(), e);
    }
    finished = true;
    store.install(fresh, b.leases(), index, b.keyCount(), b.dataBytes());
  }

  @Override
  public void close() {
    if (finished) return;
    if (fresh != null) {
      fresh.obsolete = true;
      fresh.release();
    } else {
      RocksStoreDirs.deleteTree(dir);
    }
  }
}
