package dev.tern.kv;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How {@link RocksKvStore} lays its records out in RocksDB's one column family; a record's first byte says what it is
 * (docs/storage.md, section 12):
 *
 * <pre>
 * 'k' key (UTF-8)               -> [long revision][value]
 * 'm' "applied"                 -> [long applied index][long key count][long data bytes]
 * 'l' [long lease id]           -> [long ttl ms][long renewed at]
 * 'L' [long lease id] key       -> (empty): the keys a lease holds
 * 'w' [long first seq]          -> the deduplication window, one record per commit ({@link RocksWindow})
 * 'd' [long slot]               -> [long seq][command id][result]: the window as earlier builds kept it, one result
 *                                  per record in a ring of slots ({@link RocksWindow} reads and retires them)
 * </pre>
 */
final class RocksRecords {
  private RocksRecords() {}

  static final byte KEY = 'k';
  static final byte LEASE = 'l';
  static final byte LEASE_KEY = 'L';
  static final byte[] APPLIED = {'m', 'a', 'p', 'p', 'l', 'i', 'e', 'd'};

  static byte[] dataKey(String key) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[k.length + 1];
    out[0] = KEY;
    System.arraycopy(k, 0, out, 1, k.length);
    return out;
  }

  /** The key of a data record. */
  static String keyOf(byte[] dataKey) {
    return new String(dataKey, 1, dataKey.length - 1, StandardCharsets.UTF_8);
  }

  static byte[] leaseRecordKey(long id) {
    return ByteBuffer.allocate(9).put(LEASE).putLong(id).array();
  }

  static byte[] leaseRecord(long ttlMillis, long renewedAt) {
    return ByteBuffer.allocate(16).putLong(ttlMillis).putLong(renewedAt).array();
  }

  static byte[] leaseKeyKey(long id, String key) {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(9 + k.length).put(LEASE_KEY).putLong(id).put(k).array();
  }

  /** The lease id of an 'l' or 'L' record's key. */
  static long leaseIdOf(byte[] key) {
    return ByteBuffer.wrap(key, 1, 8).getLong();
  }

  /** The key an 'L' record's key names. */
  static String leasedKeyOf(byte[] key) {
    return new String(key, 9, key.length - 9, StandardCharsets.UTF_8);
  }

  static byte[] applied(long index, long keys, long bytes) {
    return ByteBuffer.allocate(24).putLong(index).putLong(keys).putLong(bytes).array();
  }

  static byte[] encodeValue(VersionedValue v) {
    byte[] out = new byte[8 + v.value().length()];
    ByteBuffer.wrap(out).putLong(v.revision()).put(v.value().asReadOnlyBuffer());
    return out;
  }

  static VersionedValue decodeValue(byte[] stored) {
    return new VersionedValue(Bytes.wrap(stored, 8, stored.length - 8), ByteBuffer.wrap(stored).getLong());
  }

  /** A legacy slot record's value ({@link RocksWindow#LEGACY_SLOT}). */
  static byte[] encodeRemembered(KvStore.Remembered r) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeLong(r.seq());
      KvSnapshotCodec.string(out, r.id());
      KvSnapshotCodec.result(out, r.result());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static KvStore.Remembered decodeRemembered(byte[] stored) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(stored))) {
      return new KvStore.Remembered(in.readLong(), KvSnapshotCodec.string(in), KvSnapshotCodec.result(in));
    } catch (IOException e) {
      throw new IllegalStateException("a damaged window record in the key-value store", e);
    }
  }

  static boolean startsWith(byte[] a, byte[] prefix) {
    return a.length >= prefix.length && Arrays.equals(a, 0, prefix.length, prefix, 0, prefix.length);
  }
}
