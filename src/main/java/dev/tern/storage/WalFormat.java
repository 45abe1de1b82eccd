package dev.tern.storage;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The byte layout of {@link FileStorage}'s files (see docs/storage.md). All integers are big-endian.
 *
 * <p>A record, in a log segment and in the {@code hardstate} file alike, is {@code [int length][int
 * crc32c][payload]}: {@code length} counts the payload bytes and the CRC32C covers the payload. A log entry's
 * payload is {@code [long index][long term][byte kind][int dataLength][data]}; the hard state's is {@code
 * [long currentTerm][int votedForLength, -1 = no vote][votedFor, UTF-8]}.
 */
final class WalFormat {
  /** {@code [int length][int crc32c]}. */
  static final int HEADER_BYTES = 8;
  /** index, term, kind, data length. */
  static final int ENTRY_FIXED_BYTES = 8 + 8 + 1 + 4;
  /** The smallest record: an entry with no data. */
  static final int MIN_ENTRY_RECORD_BYTES = HEADER_BYTES + ENTRY_FIXED_BYTES;

  static final byte KIND_NOOP = 0;
  static final byte KIND_COMMAND = 1;
  /**
   * A cluster configuration ({@code Configuration.encode}). Added with membership changes: logs written before hold
   * only the two kinds above and read as they always did.
   */
  static final byte KIND_CONFIG = 2;

  static byte kindByte(LogEntry.Kind kind) {
    return switch (kind) {
      case NOOP -> KIND_NOOP;
      case COMMAND -> KIND_COMMAND;
      case CONFIG -> KIND_CONFIG;
    };
  }

  static LogEntry.Kind kind(byte b) {
    return b == KIND_NOOP ? LogEntry.Kind.NOOP : b == KIND_CONFIG ? LogEntry.Kind.CONFIG : LogEntry.Kind.COMMAND;
  }

  private static final String SEGMENT_PREFIX = "segment-";
  private static final String SEGMENT_SUFFIX = ".wal";
  private static final int INDEX_DIGITS = 20;

  private WalFormat() {}

  // ---- names -------------------------------------------------------------------------------------------

  /** {@code segment-<first index, 20 digits>.wal}: names sort in log order. */
  static String segmentName(long firstIndex) {
    return indexedName(SEGMENT_PREFIX, firstIndex, SEGMENT_SUFFIX);
  }

  /** The first index a segment file name declares, or -1 if the name is not a segment's. */
  static long parseSegmentName(String name) {
    return parseIndexedName(name, SEGMENT_PREFIX, SEGMENT_SUFFIX);
  }

  /** {@code <prefix><index, 20 digits><suffix>}: with the same prefix and suffix, names sort by index. */
  static String indexedName(String prefix, long index, String suffix) {
    String digits = Long.toString(index);
    return prefix + "0".repeat(INDEX_DIGITS - digits.length()) + digits + suffix;
  }

  /** The index in a name made by {@link #indexedName}, or -1 if the name is not one (or the index is < 1). */
  static long parseIndexedName(String name, String prefix, String suffix) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) return -1;
    String digits = name.substring(prefix.length(), name.length() - suffix.length());
    if (digits.length() != INDEX_DIGITS) return -1;
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') return -1;
    }
    try {
      long index = Long.parseLong(digits);
      return index >= 1 ? index : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  // ---- log entry records -------------------------------------------------------------------------------

  /** Bytes the record of {@code e} takes on disk. */
  static int recordBytes(LogEntry e) {
    long bytes = (long) MIN_ENTRY_RECORD_BYTES + e.data().length;
    if (bytes > Integer.MAX_VALUE - 64) throw new IllegalArgumentException("log entry too large: " + e);
    return (int) bytes;
  }

  /** Writes the record of {@code e} at the buffer's position, which must have {@link #recordBytes} room. */
  static void putEntry(ByteBuffer buf, LogEntry e, CRC32C crc) {
    byte[] data = e.data();
    int start = buf.position();
    buf.putInt(ENTRY_FIXED_BYTES + data.length);
    buf.putInt(0); // the CRC, filled in below
    int payloadStart = buf.position();
    buf.putLong(e.index());
    buf.putLong(e.term());
    buf.put(kindByte(e.kind()));
    buf.putInt(data.length);
    buf.put(data);
    int end = buf.position();
    int limit = buf.limit();
    crc.reset();
    buf.limit(end).position(payloadStart);
    crc.update(buf); // leaves position at end
    buf.limit(limit);
    buf.putInt(start + 4, (int) crc.getValue());
  }

  /** What {@link #scanSegment} found in one segment. */
  static final class Scan {
    /** Bytes of whole, valid records from the start of the file; the file is cut here if it is torn. */
    long validBytes;
    /** The byte offset of each entry's record, in index order. */
    long[] offsets = new long[16];
    int count;
    /** The term of the last entry read, or the term passed in if none. */
    long lastTerm;
    /** Why the tail after {@link #validBytes} is a torn write, or null if the file ended cleanly. */
    String tornReason;

    private void add(long offset) {
      if (count == offsets.length) offsets = Arrays.copyOf(offsets, count * 2);
      offsets[count++] = offset;
    }
  }

  /**
   * Reads the entries of one segment into {@code out}, checking every record's framing, checksum and index.
   *
   * @param content the whole file, in a heap buffer, position 0, limit = file size
   * @param firstIndex the index the segment's first entry must have
   * @param prevTerm the term of the entry before this segment (0 if none): terms never decrease
   * @param tolerateTornTail whether this is the last segment, whose final record may be a torn write
   * @throws StorageCorruptedException on damage that is not a torn tail
   */
  static Scan scanSegment(
      Path path, ByteBuffer content, long firstIndex, long prevTerm, boolean tolerateTornTail, List<LogEntry> out) {
    byte[] a = content.array();
    int base = content.arrayOffset();
    int size = content.limit();
    CRC32C crc = new CRC32C();
    Scan scan = new Scan();
    long expected = firstIndex;
    long term = prevTerm;
    // Where the zeros at the end begin (the preallocated room): a torn write lies before it.
    int nonZeroEnd = tolerateTornTail ? nonZeroEnd(a, base, size) : size;
    int pos = 0;
    while (pos < size) {
      int rest = size - pos;
      if (rest < HEADER_BYTES) {
        if (tolerateTornTail) {
          scan.tornReason = "a partial record header (" + rest + " bytes)";
          break;
        }
        throw new StorageCorruptedException(path, pos, "a partial record header (" + rest + " bytes) before the end of the log");
      }
      int length = content.getInt(pos);
      int storedCrc = content.getInt(pos + 4);
      if (length < ENTRY_FIXED_BYTES) {
        if (tolerateTornTail && allZero(a, base + pos, base + size)) {
          // The preallocated room after the last record ({@link LogPreallocation}), or, the same to a reader, a
          // crash that extended the file before its data reached the disk: the log ends here, nothing to cut.
          break;
        }
        throw new StorageCorruptedException(path, pos, "bad record length " + length);
      }
      if (length > rest - HEADER_BYTES) {
        // A torn write is the prefix of a well-formed record. The length is not covered by the CRC, so when
        // the record's fixed fields are there, check that they agree with it: a damaged length in front of
        // valid records must not pass for a torn tail (that would silently drop those records). With fewer
        // bytes than the smallest record before the zeros, no whole record can follow, so cutting drops nothing.
        boolean consistent =
            rest < MIN_ENTRY_RECORD_BYTES
                || nonZeroEnd - pos < MIN_ENTRY_RECORD_BYTES
                || (content.getLong(pos + HEADER_BYTES) == expected
                    && content.getInt(pos + HEADER_BYTES + 17) == length - ENTRY_FIXED_BYTES);
        if (tolerateTornTail && consistent) {
          scan.tornReason = "a partial record (" + length + " payload bytes declared, " + (rest - HEADER_BYTES) + " present)";
          break;
        }
        throw new StorageCorruptedException(
            path, pos, "record length " + length + " runs past the end of the file (" + size + " bytes)");
      }
      crc.reset();
      crc.update(a, base + pos + HEADER_BYTES, length);
      if ((int) crc.getValue() != storedCrc) {
        // A torn final record: only zeros (the preallocated room) or nothing follow it, and its fixed fields agree
        // with its length or were never written. A damaged length whose end happens to fall in the zeros fails
        // the check, so it cannot pass for a torn write and cut off the records behind it.
        boolean fixedFieldsAgree = nonZeroEnd - pos < MIN_ENTRY_RECORD_BYTES
            || (content.getLong(pos + HEADER_BYTES) == expected
                && content.getInt(pos + HEADER_BYTES + 17) == length - ENTRY_FIXED_BYTES)
            || allZero(a, base + pos + HEADER_BYTES, base + pos + HEADER_BYTES + ENTRY_FIXED_BYTES);
        if (tolerateTornTail && fixedFieldsAgree && allZero(a, base + pos + HEADER_BYTES + length, base + size)) {
          scan.tornReason = "a checksum mismatch in the final record";
          break;
        }
        throw new StorageCorruptedException(path, pos, "CRC32C mismatch in the record of entry " + expected);
      }
      int p = pos + HEADER_BYTES;
      long index = content.getLong(p);
      long entryTerm = content.getLong(p + 8);
      byte kind = content.get(p + 16);
      int dataLength = content.getInt(p + 17);
      if (dataLength != length - ENTRY_FIXED_BYTES) {
        throw new StorageCorruptedException(
            path, pos, "data length " + dataLength + " does not match record length " + length);
      }
      if (kind != KIND_NOOP && kind != KIND_COMMAND && kind != KIND_CONFIG) {
        throw new StorageCorruptedException(path, pos, "unknown entry kind " + kind);
      }
      if (index != expected) {
        String hint = pos == 0 ? " (the file name says the segment starts at " + firstIndex + ")" : "";
        throw new StorageCorruptedException(path, pos, "expected entry " + expected + " but found " + index + hint);
      }
      if (entryTerm < 1 || entryTerm < term) {
        throw new StorageCorruptedException(
            path, pos, "entry " + index + " has term " + entryTerm + " after an entry of term " + term);
      }
      int dataStart = base + p + ENTRY_FIXED_BYTES;
      byte[] data = Arrays.copyOfRange(a, dataStart, dataStart + dataLength);
      out.add(new LogEntry(index, entryTerm, kind(kind), data));
      scan.add(pos);
      term = entryTerm;
      expected++;
      pos += HEADER_BYTES + length;
    }
    scan.validBytes = pos;
    scan.lastTerm = term;
    return scan;
  }

  /** The offset (from {@code base}) just past the last byte that is not zero in {@code a[base, base + size)}. */
  private static int nonZeroEnd(byte[] a, int base, int size) {
    int end = size;
    while (end > 0 && a[base + end - 1] == 0) end--;
    return end;
  }

  private static boolean allZero(byte[] a, int from, int to) {
    for (int i = from; i < to; i++) {
      if (a[i] != 0) return false;
    }
    return true;
  }

  // ---- hard state --------------------------------------------------------------------------------------

  static byte[] encodeHardState(HardState hs) {
    byte[] vote = hs.votedFor() == null ? new byte[0] : hs.votedFor().getBytes(StandardCharsets.UTF_8);
    int payload = 8 + 4 + vote.length;
    ByteBuffer buf = ByteBuffer.allocate(HEADER_BYTES + payload);
    buf.putInt(payload).putInt(0);
    buf.putLong(hs.currentTerm());
    buf.putInt(hs.votedFor() == null ? -1 : vote.length);
    buf.put(vote);
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), HEADER_BYTES, payload);
    buf.putInt(4, (int) crc.getValue());
    return buf.array();
  }

  /** @throws StorageCorruptedException if the bytes are not one whole, valid hard-state record */
  static HardState decodeHardState(Path path, byte[] bytes) {
    if (bytes.length < HEADER_BYTES + 12) {
      throw new StorageCorruptedException(path, 0, "hard state file is " + bytes.length + " bytes, too short");
    }
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    int length = buf.getInt(0);
    if (length != bytes.length - HEADER_BYTES) {
      throw new StorageCorruptedException(
          path, 0, "hard state record declares " + length + " bytes but the file holds " + (bytes.length - HEADER_BYTES));
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, HEADER_BYTES, length);
    if ((int) crc.getValue() != buf.getInt(4)) {
      throw new StorageCorruptedException(path, 0, "CRC32C mismatch in the hard state (currentTerm, votedFor)");
    }
    long term = buf.getLong(HEADER_BYTES);
    int voteLength = buf.getInt(HEADER_BYTES + 8);
    if (term < 0 || voteLength < -1 || (voteLength == -1 ? 0 : voteLength) != length - 12) {
      throw new StorageCorruptedException(path, 0, "malformed hard state (term " + term + ", vote length " + voteLength + ")");
    }
    String vote = voteLength == -1 ? null : new String(bytes, HEADER_BYTES + 12, voteLength, StandardCharsets.UTF_8);
    return new HardState(term, vote);
  }
}
