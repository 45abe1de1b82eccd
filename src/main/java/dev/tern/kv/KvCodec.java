package dev.tern.kv;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The byte form of a {@link KvCommand} inside a log entry.
 *
 * <p>Written in a compact binary form (format 1): one format byte, one type byte, then the id and the key as
 * length-prefixed UTF-8, the expected revision of a compare-and-set, and the value last, as length-prefixed bytes
 * (decoded as a view into the entry's bytes, not a copy).
 * Every replica decodes each committed entry, so this sits on the write path of every node: with 1 MiB values,
 * Jackson's CBOR decoding (text into char segments, then a String) took 8% of a node's CPU and a large share of
 * its garbage.
 *
 * <p>A transaction ({@link KvCommand.Txn}, type {@link #TXN}) came later within format 1: a new type byte, so every
 * entry of types 1-4 reads as before; its layout is {@link TxnCodec}'s. A node that predates it cannot apply it:
 * upgrade every node before sending transactions.
 *
 * <p>Leases came later still, the same way: types 6 (a put with a lease) and 7-10 (grant, keepalive, revoke, expire).
 *
 * <p>Logs written before format 1 hold CBOR maps (Jackson, strict); they are still read, so a node upgraded in
 * place replays its old log and agrees with replicas that are not yet upgraded. A CBOR map's first byte is
 * 0xA0-0xBF, never {@link #FORMAT}, so the first byte tells the two apart.
 */
public final class KvCodec {

  /** The first byte of every command written in the binary form. */
  static final byte FORMAT = 1;

  static final byte PUT = 1;
  static final byte DELETE = 2;
  static final byte CAS = 3;
  static final byte GET = 4;
  static final byte TXN = 5;
  /** A put attaching its key to a lease: as {@link #PUT}, with the lease id (8 bytes) before the value. */
  static final byte PUT_LEASE = 6;
  /** Lease commands: after the id, 8-byte fields only (a TTL; a lease id; a lease id and a renewal index). */
  static final byte LEASE_GRANT = 7;
  static final byte LEASE_KEEPALIVE = 8;
  static final byte LEASE_REVOKE = 9;
  static final byte LEASE_EXPIRE = 10;
  /**
   * A consistency check ({@link KvCommand.Check}): the id alone. A node that predates it skips it as undecodable, which
   * every such node does alike, so replicas still agree; it just computes no digest.
   */
  static final byte CHECK = 11;

  private KvCodec() {}

  public static byte[] encode(KvCommand command) {
    Objects.requireNonNull(command, "command");
    if (command instanceof KvCommand.Txn txn) return TxnCodec.encode(txn);
    if (command instanceof KvCommand.LeaseGrant g) return leaseCommand(LEASE_GRANT, g.id(), g.ttlMillis());
    if (command instanceof KvCommand.LeaseKeepAlive k) return leaseCommand(LEASE_KEEPALIVE, k.id(), k.lease());
    if (command instanceof KvCommand.LeaseRevoke r) return leaseCommand(LEASE_REVOKE, r.id(), r.lease());
    if (command instanceof KvCommand.LeaseExpire e) return leaseCommand(LEASE_EXPIRE, e.id(), e.lease(), e.renewedAt());
    if (command instanceof KvCommand.Check c) return leaseCommand(CHECK, c.id());
    byte[] id = utf8(command.id());
    byte[] key;
    byte type;
    Bytes value = null;
    long expected = 0;
    if (command instanceof KvCommand.Put p) {
      type = p.lease() == KvCommand.NO_LEASE ? PUT : PUT_LEASE;
      key = utf8(p.key());
      value = p.value();
      expected = p.lease();
    } else if (command instanceof KvCommand.CompareAndSet c) {
      type = CAS;
      key = utf8(c.key());
      value = c.value();
      expected = c.expectedRevision();
    } else if (command instanceof KvCommand.Delete d) {
      type = DELETE;
      key = utf8(d.key());
    } else if (command instanceof KvCommand.Get g) {
      type = GET;
      key = utf8(g.key());
    } else {
      // Unreachable while KvCommand stays sealed.
      throw new IllegalStateException("unhandled command type " + command.getClass().getName());
    }
    boolean withLong = type == CAS || type == PUT_LEASE; // the expected revision, or the lease
    int size = 2 + 4 + id.length + 4 + key.length + (withLong ? 8 : 0) + (value != null ? 4 + value.length() : 0);
    byte[] out = new byte[size];
    out[0] = FORMAT;
    out[1] = type;
    int at = putBytes(out, 2, id);
    at = putBytes(out, at, key);
    if (withLong) at = putLong(out, at, expected);
    if (value != null) {
      at = putInt(out, at, value.length());
      value.asReadOnlyBuffer().get(out, at, value.length());
    }
    return out;
  }

  /** @throws IllegalArgumentException if the bytes are not an encoded command */
  public static KvCommand decode(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length > 0 && bytes[0] == FORMAT) return decodeBinary(bytes);
    return KvLegacyCbor.decode(bytes);
  }

  private static KvCommand decodeBinary(byte[] bytes) {
    try {
      Reader in = new Reader(bytes);
      byte type = in.bytes[1];
      in.at = 2;
      String id = in.string("id");
      KvCommand command = type == TXN ? TxnCodec.read(in, id)
          : type == CHECK ? new KvCommand.Check(id)
          : type >= LEASE_GRANT && type <= LEASE_EXPIRE ? leaseCommand(type, id, in) : keyCommand(type, id, in);
      if (in.at != bytes.length) {
        throw new IllegalArgumentException((bytes.length - in.at) + " trailing bytes");
      }
      return command;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a KvCommand (" + bytes.length + " bytes): " + e.getMessage(), e);
    }
  }

  /** A command on one key: types 1-4. */
  private static KvCommand keyCommand(byte type, String id, Reader in) {
    String key = in.string("key");
    return switch (type) {
      case PUT -> new KvCommand.Put(id, key, in.bytes("value"));
      case DELETE -> new KvCommand.Delete(id, key);
      case CAS -> {
        long expected = in.longValue("expectedRevision");
        yield new KvCommand.CompareAndSet(id, key, expected, in.bytes("value"));
      }
      case GET -> new KvCommand.Get(id, key);
      case PUT_LEASE -> {
        long lease = in.longValue("lease");
        if (lease <= 0) throw new IllegalArgumentException("lease " + lease + " is not a lease id");
        yield new KvCommand.Put(id, key, in.bytes("value"), lease);
      }
      default -> throw new IllegalArgumentException("unknown command type " + type);
    };
  }

  private static byte[] leaseCommand(byte type, String commandId, long... fields) {
    byte[] id = utf8(commandId);
    byte[] out = new byte[2 + 4 + id.length + 8 * fields.length];
    out[0] = FORMAT;
    out[1] = type;
    int at = putBytes(out, 2, id);
    for (long f : fields) at = putLong(out, at, f);
    return out;
  }

  /** Types 7-10: the lease commands (and, with no fields, type 11: a check). */
  private static KvCommand leaseCommand(byte type, String id, Reader in) {
    return switch (type) {
      case LEASE_GRANT -> new KvCommand.LeaseGrant(id, in.longValue("ttlMillis"));
      case LEASE_KEEPALIVE -> new KvCommand.LeaseKeepAlive(id, in.longValue("lease"));
      case LEASE_REVOKE -> new KvCommand.LeaseRevoke(id, in.longValue("lease"));
      default -> {
        long lease = in.longValue("lease");
        yield new KvCommand.LeaseExpire(id, lease, in.longValue("renewedAt"));
      }
    };
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static int putBytes(byte[] out, int at, byte[] field) {
    at = putInt(out, at, field.length);
    System.arraycopy(field, 0, out, at, field.length);
    return at + field.length;
  }

  static int putInt(byte[] out, int at, int v) {
    out[at] = (byte) (v >>> 24);
    out[at + 1] = (byte) (v >>> 16);
    out[at + 2] = (byte) (v >>> 8);
    out[at + 3] = (byte) v;
    return at + 4;
  }

  static int putLong(byte[] out, int at, long v) {
    putInt(out, at, (int) (v >>> 32));
    return putInt(out, at + 4, (int) v);
  }

  /** Bounds-checked reading: a length that runs past the end is an error, never an exception of another kind. */
  static final class Reader {
    final byte[] bytes;
    int at;

    Reader(byte[] bytes) {
      if (bytes.length < 2) throw new IllegalArgumentException("too short for a command");
      this.bytes = bytes;
    }

    byte byteValue(String field) {
      need(1, field);
      return bytes[at++];
    }

    int intValue(String field) {
      need(4, field);
      int v = ((bytes[at] & 0xff) << 24) | ((bytes[at + 1] & 0xff) << 16) | ((bytes[at + 2] & 0xff) << 8)
          | (bytes[at + 3] & 0xff);
      at += 4;
      return v;
    }

    /** A CAS revision; a negative one is refused by {@link KvCommand.CompareAndSet} itself. */
    long longValue(String field) {
      return ((long) intValue(field) << 32) | (intValue(field) & 0xffffffffL);
    }

    /** A view into the entry's own bytes, not a copy: the value lives as long as the store keeps it. */
    Bytes bytes(String field) {
      int length = length(field);
      Bytes b = Bytes.wrap(bytes, at, length);
      at += length;
      return b;
    }

    String string(String field) {
      int length = length(field);
      // A malformed sequence becomes U+FFFD the same way on every replica, so replicas still agree; the HTTP API
      // only ever proposes valid UTF-8 ids and keys.
      String s = new String(bytes, at, length, StandardCharsets.UTF_8);
      at += length;
      return s;
    }

    /** A field's length prefix, checked against what is left. */
    private int length(String field) {
      int length = intValue(field);
      if (length < 0) throw new IllegalArgumentException(field + " has a negative length");
      need(length, field);
      return length;
    }

    private void need(int n, String field) {
      if (n > bytes.length - at) {
        throw new IllegalArgumentException(field + " runs past the end (" + n + " bytes needed at " + at + ")");
      }
    }
  }
}
