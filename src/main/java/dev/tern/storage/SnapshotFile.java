package dev.tern.storage;

import dev.tern.raft.Configuration;
import dev.tern.raft.RaftStorage.StoredSnapshot;
import dev.tern.raft.SnapshotMeta;
import dev.tern.raft.SnapshotSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
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

  /** The most of a file's start that the header may take (its configuration included). */
  private static final int MAX_HEADER_BYTES = 1 << 20;

  /**
   * Reads and checks a whole snapshot file, streaming (never all of it in memory), and returns it with a source
   * that reads its data from the file.
   */
  static StoredSnapshot read(Path path) throws IOException {
    Located at = locate(path);
    verify(at);
    return new StoredSnapshot(at.meta(), source(at));
  }

  /**
   * Reads a snapshot file's header and trailer, not its data: what it covers and where its data lies. Its
   * checksum is checked as the data is read through {@link #source}, or by {@link #verify}.
   */
  static Located locate(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 4 + 4 + 8 + 8 + 4 + TRAILER_BYTES) {
        throw new StorageCorruptedException(path, 0, "too short for a snapshot (" + size + " bytes)");
      }
      ByteBuffer head = readAt(ch, 0, (int) Math.min(size - TRAILER_BYTES, MAX_HEADER_BYTES));
      ByteBuffer tail = readAt(ch, size - TRAILER_BYTES, TRAILER_BYTES);
      return parse(path, head, tail.getLong(0), size);
    }
  }

  /** Checks a whole snapshot file's bytes (as read into memory) and finds its parts. */
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
    return parse(path, ByteBuffer.wrap(bytes, 0, bytes.length - TRAILER_BYTES).slice(),
        buf.getLong(bytes.length - TRAILER_BYTES), bytes.length);
  }

  /** Parses the header at the start of {@code head}; {@code dataLength} is the trailer's. */
  private static Located parse(Path path, ByteBuffer head, long dataLength, long fileSize) {
    ByteBuffer buf = head;
    if (buf.getInt() != MAGIC) throw new StorageCorruptedException(path, 0, "not a Tern snapshot (bad magic number)");
    int version = buf.getInt();
    if (version != VERSION && version != VERSION_IDS_ONLY) {
      throw new StorageCorruptedException(path, 4, "unknown snapshot format version " + version);
    }
    long index = buf.getLong();
    long term = buf.getLong();
    Configuration configuration = version == VERSION ? readConfiguration(path, buf) : readIds(path, buf);
    long dataOffset = buf.position();
    if (dataLength != fileSize - TRAILER_BYTES - dataOffset) {
      throw new StorageCorruptedException(path, fileSize - TRAILER_BYTES,
          "the data length says " + dataLength + " bytes but the file holds " + (fileSize - TRAILER_BYTES - dataOffset));
    }
    SnapshotMeta meta;
    try {
      meta = new SnapshotMeta(index, term, configuration);
    } catch (IllegalArgumentException e) {
      throw new StorageCorruptedException(path, 8, e.getMessage());
    }
    return new Located(meta, path, dataOffset, dataLength);
  }

  /** Reads the whole file once, in pieces, and checks its checksum. */
  static void verify(Located at) throws IOException {
    try (InputStream in = source(at).open()) {
      byte[] buf = new byte[1 << 16];
      while (in.read(buf) >= 0) {
        // the stream checks the checksum at its end
      }
    }
  }

  /**
   * The data of a located snapshot, read from its file in pieces. The stream checks the file's checksum when it
   * reaches the end of the data and throws {@link StorageCorruptedException} there if the file is damaged.
   */
  static SnapshotSource source(Located at) {
    return new SnapshotSource() {
      @Override
      public long size() {
        return at.dataLength();
      }

      @Override
      public InputStream open() throws IOException {
        return new CheckedData(at);
      }
    };
  }

  /** A snapshot file's data, with the checksum of header, data and length checked at its end. */
  private static final class CheckedData extends InputStream {
    private final Located at;
    private final InputStream file;
    private final CRC32C crc = new CRC32C();
    private long left;
    private boolean checked;

    CheckedData(Located at) throws IOException {
      this.at = at;
      this.file = new java.io.BufferedInputStream(Files.newInputStream(at.path()), 1 << 16);
      byte[] header = file.readNBytes((int) at.dataOffset());
      if (header.length != at.dataOffset()) throw new StorageCorruptedException(at.path(), 0, "shorter than its header");
      crc.update(header);
      this.left = at.dataLength();
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) return 0;
      if (left == 0) {
        check();
        return -1;
      }
      int n = file.read(b, off, (int) Math.min(len, left));
      if (n < 0) throw new StorageCorruptedException(at.path(), at.dataOffset() + at.dataLength() - left, "ends early");
      crc.update(b, off, n);
      left -= n;
      return n;
    }

    private void check() throws IOException {
      if (checked) return;
      checked = true;
      byte[] trailer = file.readNBytes(TRAILER_BYTES);
      if (trailer.length != TRAILER_BYTES) throw new StorageCorruptedException(at.path(), 0, "the trailer is missing");
      crc.update(trailer, 0, 8);
      if ((int) crc.getValue() != ByteBuffer.wrap(trailer).getInt(8)) {
        throw new StorageCorruptedException(at.path(), at.dataOffset() + at.dataLength() + 8,
            "checksum mismatch: the snapshot is damaged");
      }
    }

    @Override
    public void close() throws IOException {
      file.close();
    }
  }

  private static ByteBuffer readAt(FileChannel ch, long position, int n) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(n);
    while (buf.hasRemaining()) {
      if (ch.read(buf, position + buf.position()) < 0) throw new IOException("the file shrank while being read");
    }
    buf.flip();
    return buf;
  }

  private static Configuration readConfiguration(Path path, ByteBuffer buf) {
    int n = buf.getInt();
    if (n < 0 || n > buf.remaining()) {
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
      if (n < 0 || n > buf.remaining()) {
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
