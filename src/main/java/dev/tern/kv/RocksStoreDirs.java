package dev.tern.kv;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The directories of a {@link RocksKvStore}: {@code <dir>/store-<n>} holds a RocksDB instance, and {@code <dir>/CURRENT}
 * names the one in force. A restored snapshot is built in the next directory and switched to by rewriting CURRENT
 * (fsynced, renamed, directory fsynced): a crash before the switch leaves the old store in force.
 */
final class RocksStoreDirs {
  private static final Logger log = LoggerFactory.getLogger(RocksStoreDirs.class);
  private static final String CURRENT = "CURRENT";
  private static final String STORE_PREFIX = "store-";
  private static final String CHECKPOINT_PREFIX = "checkpoint-";
  private static final java.util.concurrent.atomic.AtomicLong checkpoints = new java.util.concurrent.atomic.AtomicLong();

  private RocksStoreDirs() {}

  /** The store directory in force; for a new store, {@code store-1}, named in a new CURRENT. */
  static Path current(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path pointer = dir.resolve(CURRENT);
    if (Files.exists(pointer)) {
      String name = Files.readString(pointer, StandardCharsets.UTF_8).trim();
      if (!name.startsWith(STORE_PREFIX) || name.contains("/")) throw new IOException(pointer + " names no store: " + name);
      return dir.resolve(name);
    }
    Path first = dir.resolve(STORE_PREFIX + 1);
    deleteTree(first);
    switchTo(first);
    return first;
  }

  /** Deletes what an interrupted restore or a replaced store left beside the one in force. */
  static void deleteOthers(Path dir, Path current) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String name = p.getFileName().toString();
        if (name.startsWith(STORE_PREFIX) && !p.equals(current)) {
          log.info("Deleting {}, left over from an interrupted restore or replaced by a newer store", p);
          deleteTree(p);
        } else if (name.startsWith(CHECKPOINT_PREFIX)) {
          log.info("Deleting {}, a checkpoint left over from a snapshot or backup interrupted by a stop", p);
          deleteTree(p);
        }
      }
    }
  }

  /** The directory after {@code storeDir}, for a store being restored. */
  static Path next(Path storeDir) {
    String name = storeDir.getFileName().toString();
    long n = Long.parseLong(name.substring(STORE_PREFIX.length()));
    return storeDir.resolveSibling(STORE_PREFIX + (n + 1));
  }

  /**
   * A new directory name for a checkpoint of the store at {@code index}, beside the stores (hard links need the same
   * file system); it does not exist yet.
   */
  static Path checkpoint(Path dir, long index) {
    return dir.resolve(CHECKPOINT_PREFIX + index + "-" + checkpoints.incrementAndGet());
  }

  /** Points CURRENT at {@code storeDir}, durably: a new file, fsynced, renamed over the old one, directory fsynced. */
  static void switchTo(Path storeDir) throws IOException {
    Path dir = storeDir.getParent();
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

  static void deleteTree(Path p) {
    if (!Files.exists(p)) return;
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path f : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + p, e);
    }
  }
}
