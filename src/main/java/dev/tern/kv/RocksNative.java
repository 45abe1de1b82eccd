package dev.tern.kv;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.jar.JarEntry;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads RocksDB's native library once per library version, not once per start. RocksDB's own loader copies the 15 MB
 * library out of the jar into a new temp file at every start and deletes it only at a clean exit, so every node that
 * was killed left one behind (368 of them, 5.3 GB, in one day's /tmp here). This one copies it to
 * {@code <java.io.tmpdir>/tern-rocksdbjni-<crc>-<size>/} when that copy is missing (atomically: concurrent starts
 * each move a whole file in) and loads it from there; anything unexpected falls back to RocksDB's loader.
 */
final class RocksNative {
  private static final Logger log = LoggerFactory.getLogger(RocksNative.class);
  private static boolean loaded;

  private RocksNative() {}

  static synchronized void load() {
    if (loaded) return;
    try {
      Path dir = extracted();
      if (dir != null) {
        RocksDB.loadLibrary(List.of(dir.toString()));
        loaded = true;
        return;
      }
    } catch (IOException | RuntimeException | UnsatisfiedLinkError e) {
      log.debug("Loading RocksDB's library from a shared copy failed ({}); RocksDB's own loader copies it", e.toString());
    }
    RocksDB.loadLibrary();
    loaded = true;
  }

  /** The directory holding the library under the name {@link RocksDB#loadLibrary(List)} looks for, or null. */
  private static Path extracted() throws IOException {
    String resource = Environment.getJniLibraryFileName("rocksdb");
    URL url = RocksDB.class.getClassLoader().getResource(resource);
    if (url == null || !"jar".equals(url.getProtocol())) return null;
    JarURLConnection connection = (JarURLConnection) url.openConnection();
    connection.setUseCaches(false);
    JarEntry entry = connection.getJarEntry();
    if (entry.getCrc() < 0 || entry.getSize() < 0) return null;
    Path dir = Path.of(System.getProperty("java.io.tmpdir"),
        "tern-rocksdbjni-" + Long.toHexString(entry.getCrc()) + "-" + entry.getSize());
    // RocksDB.loadLibrary(paths) loads <path>/ + getJniLibraryFileName("rocksdbjni") (librocksdbjnijni-linux64.so).
    Path lib = dir.resolve(Environment.getJniLibraryFileName("rocksdbjni"));
    if (Files.isRegularFile(lib) && Files.size(lib) == entry.getSize()) return dir;
    Files.createDirectories(dir);
    Path part = Files.createTempFile(dir, "lib", ".part");
    try (InputStream in = connection.getInputStream()) {
      Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
      Files.move(part, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(part);
    }
    return dir;
  }
}
