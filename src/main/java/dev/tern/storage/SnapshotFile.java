package dev.tern.storage;

import dev.tern.raft.Configuration;
import dev.tern.raft.RaftStorage.StoredSnapshot;
import dev.tern.raft.SnapshotMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The layout of a snapshot file, {@code snapshot-<last included index, 20 digits>.snap} (see docs/storage.md).
 * All integers are big-endian:
 *
 * <pre>
 * header:  [int magic "TSNP"][int version = 2][long lastIncludedIndex][long lastIncludedTerm]
 *          [int configLength][the configuration in force at lastIncludedIndex, Configuration.encode]
 *          (version 1, written before membership changes, has [int memberCount] memberCount x ([int length][UTF-8
 *          id]) instead: voters known by id, whose addresses the node takes from its bootstrap configuration)
 * data:    the state machine's bytes
 * trailer: [long dataLength][int crc32c of every byte before it]
 * </pre>
 *
 * The data length sits in the trailer so that the data can be streamed out without knowing its size first;
 * the CRC covers header, data and length, so a torn or damaged file is always detected.
 */
final class SnapshotFile {
  private SnapshotFile() {}

  static final int MAGIC = 0x54534e50; // "TSNP"
  static final int VERSION = 2;
  /** Snapshots written before configurations carried addresses and learners: still read. */
  static final int VERSION_IDS_ONLY = 1;
  static final int TRAILER_BYTES = 8 + 4;
  static final String PREFIX = "snapshot-";
  static final String SUFFIX = ".snap";
  /** A snapshot being written by this node. */
  static final String TMP_SUFFIX = ".snap.tmp";
  /** A snapshot being received from the leader. */
  static final String PARTIAL_SUFFIX = ".snap.partial";

  static String name(long lastIncludedIndex) {
    return WalFormat.indexedName(PREFIX, lastIncludedIndex, SUFFIX);
  }

  /** The index a snapshot file name declares, or -1 if it is not a complete snapshot's name. */
  static long parseName(String name) {
    return WalFormat.parseIndexedName(name, PREFIX, SUFFIX);
  }

  static byte[] header(SnapshotMeta meta) {
    byte[] config = meta.configuration().encode();
    ByteBuffer buf = ByteBuffer.allocate(4 + 4 + 8 + 8 + 4 + config.length);
    buf.putInt(MAGIC).putInt(VERSION).putLong(meta.lastIncludedIndex()).putLong(meta.lastIncludedTerm());
    buf.putInt(config.length).put(config);
    return buf.array();
  }

  static byte[] trailer(long dataLength, CRC32C crcOfEverythingBefore) {
    ByteBuffer len = ByteBuffer.allocate(8).putLong(dataLength);
    crcOfEverythingBefore.update(len.array());
    return ByteBuffer.allocate(TRAILER_BYTES).putLong(dataLength).putInt((int) crcOfEverythingBefore.getValue()).array();
  }

  /** Where a stored snapshot's data lies in its file. */
  record Located(SnapshotMeta meta, Path path, long dataOffset, long dataLength) {}

  /** Reads and checks a whole snapshot file. */
  static StoredSnapshot read(Path path) throws IOException {
    byte[] bytes = FileStorage.readFile(path).array();
    Located at = parse(path, bytes);
    byte[] data = new byte[(int) at.dataLength()];
    System.arraycopy(bytes, (int) at.dataOffset(), data, 0, data.length);
    return new StoredSnapshot(at.meta(), data);
  }

  /** Checks a snapshot file's bytes and finds its parts; throws {@link StorageCorruptedException} if damaged. */
  static Located parse(Path path, byte[] bytes) {
    if (bytes.length < 4 + 4 + 8 + 8 + 4 + TRAILER_BYTES) {
      throw new StorageCorruptedException(path, 0, "too short for a snapshot (" + bytes.length + " bytes)");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    int crcAt = bytes.length - 4;
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, crcAt);
    if ((int) crc.getValue() != buf.getInt(crcAt)) {
      throw new StorageCorruptedException(path, crcAt, "checksum mismatch: the snapshot is damaged");
    }
    if (buf.getInt() != MAGIC) throw new StorageCorruptedException(path, 0, "not a Tern snapshot (bad magic number)");
    int version = buf.getInt();
    if (version != VERSION && version != VERSION_IDS_ONLY) {
      throw new StorageCorruptedException(path, 4, "unknown snapshot format version " + version);
    }
    long index = buf.getLong();
    long term = buf.getLong();
    Configuration configuration = version == VERSION ? readConfiguration(path, buf) : readIds(path, buf);
    long dataOffset = buf.position();
    long dataLength = buf.getLong(bytes.length - TRAILER_BYTES);
    if (dataLength != bytes.length - TRAILER_BYTES - dataOffset) {
      throw new StorageCorruptedException(path, bytes.length - TRAILER_BYTES,
          "the data length says " + dataLength + " bytes but the file holds " + (bytes.length - TRAILER_BYTES - dataOffset));
    }
    SnapshotMeta meta;
    try {
      meta = new SnapshotMeta(index, term, configuration);
    } catch (IllegalArgumentException e) {
      throw new StorageCorruptedException(path, 8, e.getMessage());
    }
    return new Located(meta, path, dataOffset, dataLength);
  }

  private static Configuration readConfiguration(Path path, ByteBuffer buf) {
    int n = buf.getInt();
    if (n < 0 || n > buf.remaining() - TRAILER_BYTES) {
      throw new StorageCorruptedException(path, buf.position() - 4, "bad configuration length " + n);
    }
    byte[] b = new byte[n];
    buf.get(b);
    try {
      return Configuration.decode(b);
    } catch (IllegalArgumentException e) {
      throw new StorageCorruptedException(path, buf.position() - n, "bad configuration: " + e.getMessage());
    }
  }

  private static Configuration readIds(Path path, ByteBuffer buf) {
    int count = buf.getInt();
    if (count < 0 || count > 10_000) throw new StorageCorruptedException(path, buf.position() - 4, "bad member count " + count);
    List<String> members = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int n = buf.getInt();
      if (n < 0 || n > buf.remaining() - TRAILER_BYTES) {
        throw new StorageCorruptedException(path, buf.position() - 4, "bad member id length " + n);
      }
      byte[] b = new byte[n];
      buf.get(b);
      members.add(new String(b, StandardCharsets.UTF_8));
    }
    try {
      return Configuration.ofVoters(members);
    } catch (IllegalArgumentException e) {
      throw new StorageCorruptedException(path, 24, "bad members: " + e.getMessage());
    }
  }
}
