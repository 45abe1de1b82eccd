package dev.tern.storage;

import dev.tern.raft.StateMachine;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * A backup, as {@code GET /v1/snapshot} streams it and {@code tern snapshot save} stores it: the key-value state
 * at a committed index, self-describing and checksummed. All integers big-endian:
 *
 * <pre>
 * header:  [int magic "TBAK"][int version = 1][long index][long term][int length][cluster id, UTF-8]
 * data:    the key-value state machine's snapshot (KvSnapshotCodec, as in a snapshot file)
 * trailer: [long dataLength][int crc32c of every byte before it]
 * </pre>
 *
 * {@code index} is the last log entry the state includes; {@code term} the saving node's term when it captured
 * it (at least that entry's term). As in snapshot files the length and CRC sit at the end, so that the data can be
 * streamed out as it is encoded; a truncated or damaged file fails {@link #verify}.
 */
public final class BackupFile {
  private BackupFile() {}

  static final int MAGIC = 0x5442414b; // "TBAK"
  public static final int VERSION = 1;
  private static final int FIXED_HEADER_BYTES = 4 + 4 + 8 + 8 + 4;
  private static final int MAX_CLUSTER_ID_BYTES = 1024;

  /** What a verified backup holds and where its data lies. */
  public record Verified(int version, long index, long term, String clusterId, long dataOffset, long dataLength) {}

  /** A backup file that cannot be used: truncated, damaged, or not a backup. */
  public static final class BadBackupException extends Exception {
    public BadBackupException(String message) {
      super(message);
    }
  }

  /** Writes a whole backup of {@code data} to {@code out} (which it does not close); returns the data's length. */
  public static long write(OutputStream out, long index, long term, String clusterId, StateMachine.SnapshotData data)
      throws IOException {
    CRC32C crc = new CRC32C();
    byte[] id = clusterId.getBytes(StandardCharsets.UTF_8);
    byte[] header = ByteBuffer.allocate(FIXED_HEADER_BYTES + id.length)
        .putInt(MAGIC).putInt(VERSION).putLong(index).putLong(term).putInt(id.length).put(id).array();
    out.write(header);
    crc.update(header);
    long[] counted = {0};
    OutputStream summing = new BufferedOutputStream(new FilterOutputStream(out) {
      @Override
      public void write(int b) throws IOException {
        crc.update(b);
        counted[0]++;
        out.write(b);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        crc.update(b, off, len);
        counted[0] += len;
        out.write(b, off, len);
      }

      @Override
      public void close() {} // the caller owns `out`
    }, 1 << 16);
    data.writeTo(summing);
    summing.flush();
    out.write(SnapshotFile.trailer(counted[0], crc));
    out.flush();
    return counted[0];
  }

  /** Reads the file through once, checks magic, version, lengths and checksum, and says what it holds. */
  public static Verified verify(Path file) throws BadBackupException, IOException {
    long size = Files.size(file);
    if (size < FIXED_HEADER_BYTES + SnapshotFile.TRAILER_BYTES) {
      throw new BadBackupException(file + " is not a complete Tern backup: " + size + " bytes, shorter than any backup"
          + " (truncated?)");
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] fixed = in.readNBytes(FIXED_HEADER_BYTES);
      ByteBuffer h = ByteBuffer.wrap(fixed);
      if (h.getInt() != MAGIC) throw new BadBackupException(file + " is not a Tern backup (bad magic number)");
      int version = h.getInt();
      if (version < 1 || version > VERSION) {
        throw new BadBackupException(file + " has backup format version " + version + "; this Tern reads versions 1 to "
            + VERSION);
      }
      long index = h.getLong();
      long term = h.getLong();
      int idLength = h.getInt();
      if (idLength < 0 || idLength > MAX_CLUSTER_ID_BYTES || FIXED_HEADER_BYTES + idLength + SnapshotFile.TRAILER_BYTES > size) {
        throw new BadBackupException(file + " is damaged: bad cluster id length " + idLength);
      }
      byte[] id = in.readNBytes(idLength);
      CRC32C crc = new CRC32C();
      crc.update(fixed);
      crc.update(id);
      long dataOffset = FIXED_HEADER_BYTES + idLength;
      long rest = size - dataOffset - 4; // data and the length field, under the CRC
      byte[] buf = new byte[1 << 16];
      byte[] last12 = new byte[12];
      long read = 0;
      long tailFrom = size - dataOffset - 12;
      while (read < rest + 4) {
        int n = in.read(buf, 0, (int) Math.min(buf.length, rest + 4 - read));
        if (n < 0) throw new BadBackupException(file + " is truncated");
        int underCrc = (int) Math.max(0, Math.min(n, rest - read));
        crc.update(buf, 0, underCrc);
        for (int i = 0; i < n; i++) {
          long at = read + i;
          if (at >= tailFrom) last12[(int) (at - tailFrom)] = buf[i];
        }
        read += n;
      }
      ByteBuffer tail = ByteBuffer.wrap(last12);
      long dataLength = tail.getLong();
      int storedCrc = tail.getInt();
      if ((int) crc.getValue() != storedCrc) {
        throw new BadBackupException(file + " is damaged or truncated: checksum mismatch");
      }
      if (dataLength != size - dataOffset - SnapshotFile.TRAILER_BYTES) {
        throw new BadBackupException(file + " is damaged: the trailer says " + dataLength + " data bytes, the file holds "
            + (size - dataOffset - SnapshotFile.TRAILER_BYTES));
      }
      if (index < 1 || term < 1) throw new BadBackupException(file + " holds no committed entry (index " + index + ")");
      return new Verified(version, index, term, new String(id, StandardCharsets.UTF_8), dataOffset, dataLength);
    }
  }

  /** Reads {@code length} bytes of {@code file} from {@code offset} (the first bytes of the data, for checks). */
  public static byte[] readAt(Path file, long offset, int length) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(length);
      while (b.hasRemaining()) {
        if (ch.read(b, offset + b.position()) < 0) break;
      }
      return java.util.Arrays.copyOf(b.array(), b.position());
    }
  }
}
