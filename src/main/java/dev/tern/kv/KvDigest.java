package dev.tern.kv;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * SHA-256 over a store's content in key order, then its leases: the same on every replica that holds the same
 * state, whichever store holds it. Length prefixes keep ("ab","c") and ("a","bc") from hashing alike.
 */
final class KvDigest {
  private final MessageDigest sha = sha256();

  void entry(String key, VersionedValue v) {
    update(Bytes.utf8(key));
    update(v.value());
    sha.update(ByteBuffer.allocate(Long.BYTES).putLong(v.revision()).array());
  }

  /** Leases only when there are any, so that a store without leases digests as it did before they existed. */
  String finish(List<Lease> leases) {
    for (Lease l : leases) {
      sha.update(ByteBuffer.allocate(3 * Long.BYTES + Integer.BYTES).putLong(l.id()).putLong(l.ttlMillis())
          .putLong(l.renewedAt()).putInt(l.keys().size()).array());
      for (String key : l.keys()) update(Bytes.utf8(key));
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private void update(Bytes bytes) {
    sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length()).array());
    sha.update(bytes.asReadOnlyBuffer());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform must provide SHA-256", e);
    }
  }
}
