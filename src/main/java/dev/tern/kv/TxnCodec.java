package dev.tern.kv;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte form of a {@link KvCommand.Txn} in a log entry, type {@link KvCodec#TXN} of {@link KvCodec}'s format 1.
 * After the format byte, the type byte and the id (as every command): the compares (a count, then for each a target
 * byte, a relation byte, the key, and the operand: the value as length-prefixed bytes, the revision as 8 bytes, or
 * existence as one byte), then the success and the failure operations (for each branch a count, then for each an
 * operation byte, the key, and a put's value). Integers are big-endian, strings and values length-prefixed as in
 * {@link KvCodec}. Values decode as views into the entry's bytes.
 */
final class TxnCodec {
  private TxnCodec() {}

  static final byte VALUE = 1;
  static final byte REVISION = 2;
  static final byte EXISTS = 3;

  static final byte OP_PUT = 1;
  static final byte OP_DELETE = 2;
  static final byte OP_GET = 3;
  /** A put with a lease: as {@link #OP_PUT}, with the lease id (8 bytes) between the key and the value. */
  static final byte OP_PUT_LEASE = 4;

  static byte[] encode(KvCommand.Txn txn) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    DataOutputStream out = new DataOutputStream(bytes);
    try {
      out.writeByte(KvCodec.FORMAT);
      out.writeByte(KvCodec.TXN);
      string(out, txn.id());
      out.writeInt(txn.compares().size());
      for (TxnCompare c : txn.compares()) {
        out.writeByte(switch (c.target()) {
          case VALUE -> VALUE;
          case REVISION -> REVISION;
          case EXISTS -> EXISTS;
        });
        out.writeByte(c.relation().ordinal() + 1);
        string(out, c.key());
        switch (c.target()) {
          case VALUE -> value(out, c.value());
          case REVISION -> out.writeLong(c.revision());
          case EXISTS -> out.writeByte(c.exists() ? 1 : 0);
        }
      }
      ops(out, txn.success());
      ops(out, txn.failure()); // a DataOutputStream keeps no buffer: the bytes are all in `bytes` now
    } catch (IOException e) {
      throw new UncheckedIOException("writing into memory", e); // cannot happen
    }
    return bytes.toByteArray();
  }

  private static void ops(DataOutputStream out, List<TxnOp> ops) throws IOException {
    out.writeInt(ops.size());
    for (TxnOp op : ops) {
      if (op instanceof TxnOp.Put p) {
        out.writeByte(p.lease() == KvCommand.NO_LEASE ? OP_PUT : OP_PUT_LEASE);
        string(out, p.key());
        if (p.lease() != KvCommand.NO_LEASE) out.writeLong(p.lease());
        value(out, p.value());
      } else if (op instanceof TxnOp.Delete d) {
        out.writeByte(OP_DELETE);
        string(out, d.key());
      } else if (op instanceof TxnOp.Get g) {
        out.writeByte(OP_GET);
        string(out, g.key());
      } else {
        throw new IllegalStateException("unhandled operation " + op.getClass().getName()); // unreachable: sealed
      }
    }
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    value(out, Bytes.utf8(s));
  }

  private static void value(DataOutputStream out, Bytes b) throws IOException {
    out.writeInt(b.length());
    b.writeTo(out);
  }

  /** Reads what follows the id; {@code in} stands after it. */
  static KvCommand.Txn read(KvCodec.Reader in, String id) {
    int n = count(in, "compares");
    List<TxnCompare> compares = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte target = in.byteValue("target");
      TxnCompare.Relation relation = relation(in.byteValue("relation"));
      String key = in.string("key");
      compares.add(switch (target) {
        case VALUE -> TxnCompare.value(key, relation, in.bytes("value"));
        case REVISION -> {
          long revision = in.longValue("revision");
          if (revision < 0) throw new IllegalArgumentException("negative revision " + revision + " in a compare");
          yield TxnCompare.revision(key, relation, revision);
        }
        case EXISTS -> {
          if (relation != TxnCompare.Relation.EQUAL && relation != TxnCompare.Relation.NOT_EQUAL) {
            throw new IllegalArgumentException("existence compared with " + relation.symbol);
          }
          byte exists = in.byteValue("exists");
          if (exists != 0 && exists != 1) throw new IllegalArgumentException("exists is " + exists + ", not 0 or 1");
          yield TxnCompare.exists(key, relation, exists == 1);
        }
        default -> throw new IllegalArgumentException("unknown compare target " + target);
      });
    }
    List<TxnOp> success = ops(in, "success");
    List<TxnOp> failure = ops(in, "failure");
    return new KvCommand.Txn(id, compares, success, failure);
  }

  private static TxnCompare.Relation relation(byte b) {
    TxnCompare.Relation[] all = TxnCompare.Relation.values();
    if (b < 1 || b > all.length) throw new IllegalArgumentException("unknown compare relation " + b);
    return all[b - 1];
  }

  private static List<TxnOp> ops(KvCodec.Reader in, String branch) {
    int n = count(in, branch);
    List<TxnOp> ops = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte kind = in.byteValue(branch);
      String key = in.string("key");
      ops.add(switch (kind) {
        case OP_PUT -> new TxnOp.Put(key, in.bytes("value"));
        case OP_DELETE -> new TxnOp.Delete(key);
        case OP_GET -> new TxnOp.Get(key);
        case OP_PUT_LEASE -> {
          long lease = in.longValue("lease");
          if (lease <= 0) throw new IllegalArgumentException("lease " + lease + " is not a lease id");
          yield new TxnOp.Put(key, in.bytes("value"), lease);
        }
        default -> throw new IllegalArgumentException("unknown operation " + kind + " in " + branch);
      });
    }
    return ops;
  }

  /** A count, at most one per byte left (each element takes more than one): a corrupt count fails, not allocates. */
  private static int count(KvCodec.Reader in, String field) {
    int n = in.intValue(field);
    if (n < 0 || n > in.bytes.length - in.at) {
      throw new IllegalArgumentException(field + " count " + n + " does not fit in what is left");
    }
    return n;
  }
}
