package dev.tern.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * Which cluster and which node a data directory belongs to: the {@code identity} file, written once on the
 * directory's first start and checked on every start, so that a node never runs on another node's or another
 * cluster's Raft state (a wrong {@code tern.data-dir}, a directory copied from elsewhere).
 *
 * <p>The file is a few lines of text, written to {@code identity.tmp}, fsynced, renamed into place and the
 * directory fsynced (as the hard state is):
 *
 * <pre>
 * format=1
 * cluster-id=3f0c9a6e1b2d4c57
 * node-id=n2
 * incarnation=9d2f4b1c0e7a6358
 * crc32c=1a2b3c4d          (of the lines above, with their newlines)
 * </pre>
 *
 * The incarnation is a random number drawn when the directory is created: it names this directory's Raft state, so
 * that peers can tell the node they knew from the same node come back without its state (see
 * {@code Configuration.Server}). A file written before incarnations has none ({@link #NO_INCARNATION}); the node
 * draws one on its next start.
 *
 * The cluster id is derived, as etcd derives its own, from {@code tern.cluster.token} and the members' ids
 * ({@link #clusterId}): every node computes the same id from the same configuration, with nothing to exchange.
 */
public record DataDirIdentity(String clusterId, String nodeId, long incarnation) {
  /** No incarnation recorded: a file written by a Tern that predates them. */
  public static final long NO_INCARNATION = 0;
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  public static final String FILE = "identity";
  static final String TMP = "identity.tmp";
  /** The identity file's format version; a newer one is refused (written by a newer Tern). */
  public static final int FORMAT = 1;

  public DataDirIdentity {
    if (clusterId == null || clusterId.isBlank()) throw new IllegalArgumentException("cluster id must not be empty");
    if (nodeId == null || nodeId.isBlank()) throw new IllegalArgumentException("node id must not be empty");
    if (clusterId.contains("\n") || nodeId.contains("\n")) throw new IllegalArgumentException("ids must be one line");
  }

  /** The identity of a new data directory: a fresh incarnation. */
  public DataDirIdentity(String clusterId, String nodeId) {
    this(clusterId, nodeId, freshIncarnation());
  }

  /** This identity with a fresh incarnation (for a directory recorded before incarnations). */
  public DataDirIdentity withFreshIncarnation() {
    return new DataDirIdentity(clusterId, nodeId);
  }

  /** A random incarnation, never {@link #NO_INCARNATION}. */
  static long freshIncarnation() {
    long i;
    do {
      i = RANDOM.nextLong();
    } while (i == NO_INCARNATION);
    return i;
  }

  /** An incarnation as the file and the logs show it: 16 hex digits. */
  public static String hex(long incarnation) {
    return String.format("%016x", incarnation);
  }

  /**
   * The cluster id: the first 8 bytes of SHA-256 over the token and the sorted member ids, as 16 hex digits.
   * The same token and members give the same id on every node; another token or other members another id.
   */
  public static String clusterId(String token, Collection<String> memberIds) {
    StringBuilder text = new StringBuilder("tern-cluster\n").append(token).append('\n');
    for (String id : new TreeSet<>(memberIds)) text.append(id).append('\n');
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e); // every JVM must have it
    }
  }

  /** The identity recorded in {@code dir}, or null if there is none. */
  public static DataDirIdentity read(Path dir) {
    Path file = dir.resolve(FILE);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e, e);
    }
    return parse(file, new String(bytes, StandardCharsets.UTF_8));
  }

  static DataDirIdentity parse(Path file, String text) {
    int crcAt = text.lastIndexOf("crc32c=");
    if (crcAt < 0 || (crcAt > 0 && text.charAt(crcAt - 1) != '\n')) {
      throw new StorageCorruptedException(file, "no checksum line: not a complete identity file");
    }
    String body = text.substring(0, crcAt);
    String declared = text.substring(crcAt + "crc32c=".length()).strip();
    if (!declared.equals(crc(body))) throw new StorageCorruptedException(file, "checksum mismatch: the identity file is damaged");
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : body.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) continue;
      int eq = line.indexOf('=');
      if (eq <= 0) throw new StorageCorruptedException(file, "bad line '" + line + "'");
      fields.put(line.substring(0, eq), line.substring(eq + 1));
    }
    int format;
    try {
      format = Integer.parseInt(fields.getOrDefault("format", ""));
    } catch (NumberFormatException e) {
      throw new StorageCorruptedException(file, "no format version");
    }
    if (format > FORMAT) {
      throw new StorageCorruptedException(file, "identity format " + format + " is newer than this Tern reads ("
          + FORMAT + "): the directory was written by a newer version");
    }
    String cluster = fields.get("cluster-id");
    String node = fields.get("node-id");
    if (cluster == null || node == null || cluster.isBlank() || node.isBlank()) {
      throw new StorageCorruptedException(file, "cluster-id or node-id is missing");
    }
    String inc = fields.get("incarnation");
    long incarnation = NO_INCARNATION;
    if (inc != null) {
      try {
        incarnation = Long.parseUnsignedLong(inc.strip(), 16);
      } catch (NumberFormatException e) {
        throw new StorageCorruptedException(file, "bad incarnation '" + inc + "'");
      }
    }
    return new DataDirIdentity(cluster, node, incarnation);
  }

  String render() {
    String body = "# Which Tern cluster and node this data directory belongs to. Do not edit: see docs/storage.md.\n"
        + "format=" + FORMAT + "\ncluster-id=" + clusterId + "\nnode-id=" + nodeId + "\n"
        + (incarnation == NO_INCARNATION ? "" : "incarnation=" + hex(incarnation) + "\n");
    return body + "crc32c=" + crc(body) + "\n";
  }

  private static String crc(String body) {
    CRC32C crc = new CRC32C();
    crc.update(body.getBytes(StandardCharsets.UTF_8));
    return String.format("%08x", crc.getValue());
  }

  /** Writes this identity into {@code dir} atomically: a temporary file, fsync, rename, directory fsync. */
  public void write(Path dir, boolean fsync) {
    Path tmp = dir.resolve(TMP);
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE)) {
        ByteBuffer bytes = ByteBuffer.wrap(render().getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) ch.write(bytes);
        if (fsync) ch.force(true);
      }
      Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
      if (fsync) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
          d.force(true);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dir.resolve(FILE) + ": " + e, e);
    }
  }

  /** Whether {@code dir} is what a new node's directory looks like: no identity and no Raft state. */
  public static boolean blank(Path dir) {
    return read(dir) == null && !holdsRaftState(dir);
  }

  /**
   * Whether {@code dir} holds any Raft state: a hard state, a snapshot or a log segment. A directory without
   * (missing, empty, or with only a lock file and an empty log folder) is a new node's.
   */
  public static boolean holdsRaftState(Path dir) {
    if (!Files.isDirectory(dir)) return false;
    try {
      if (Files.exists(dir.resolve(FileStorage.HARD_STATE))) return true;
      try (DirectoryStream<Path> snaps = Files.newDirectoryStream(dir, SnapshotFile.PREFIX + "*" + SnapshotFile.SUFFIX)) {
        if (snaps.iterator().hasNext()) return true;
      }
      Path logDir = dir.resolve(FileStorage.LOG_DIR);
      if (!Files.isDirectory(logDir)) return false;
      try (DirectoryStream<Path> segments = Files.newDirectoryStream(logDir, "segment-*")) {
        return segments.iterator().hasNext();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir + ": " + e, e);
    }
  }

  /** A data directory that belongs to another node or another cluster: the node refuses to start. */
  public static final class MismatchException extends IllegalStateException {
    public MismatchException(String message) {
      super(message);
    }
  }

  /**
   * Checks the directory's recorded identity against this node's. Throws {@link MismatchException} with what to
   * do if they differ; returns what the directory holds (null: no identity recorded yet).
   */
  public static DataDirIdentity check(Path dir, DataDirIdentity expected) {
    DataDirIdentity found = read(dir);
    if (found == null) return null;
    Path abs = dir.toAbsolutePath();
    if (!found.nodeId().equals(expected.nodeId())) {
      throw new MismatchException("data directory " + abs + " belongs to node " + found.nodeId() + " (cluster "
          + found.clusterId() + "), not to " + expected.nodeId() + ". Refusing to start: running on another node's"
          + " Raft state would break Raft's safety. Give each node its own tern.data-dir, or start this directory"
          + " with --id " + found.nodeId() + ".");
    }
    if (!found.clusterId().equals(expected.clusterId())) {
      throw new MismatchException("data directory " + abs + " belongs to cluster " + found.clusterId()
          + ", but this node's configuration (tern.cluster.token and the members' ids) makes cluster "
          + expected.clusterId() + ". Refusing to start: wrong tern.data-dir, wrong configuration, or a directory of"
          + " another cluster. Check tern.cluster.token and tern.cluster.members; to move data to a new cluster use"
          + " `tern snapshot save` and `tern snapshot restore` (docs/operations.md).");
    }
    return found;
  }
}
