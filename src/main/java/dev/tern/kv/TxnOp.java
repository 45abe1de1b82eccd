package dev.tern.kv;

import java.util.Objects;

/** One operation of a transaction's branch ({@link KvCommand.Txn}); the branch runs them in order. */
public sealed interface TxnOp {

  String key();

  /** {@code lease}: as in {@link KvCommand.Put}. */
  record Put(String key, Bytes value, long lease) implements TxnOp {
    public Put {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      if (lease < 0) throw new IllegalArgumentException("lease must be >= 0, got " + lease);
    }

    public Put(String key, Bytes value) {
      this(key, value, KvCommand.NO_LEASE);
    }

    public Put(String key, String value) {
      this(key, Bytes.utf8(value));
    }
  }

  record Delete(String key) implements TxnOp {
    public Delete {
      Objects.requireNonNull(key, "key");
    }
  }

  /** Reads the key as the branch has left it so far (a put earlier in the branch is seen). */
  record Get(String key) implements TxnOp {
    public Get {
      Objects.requireNonNull(key, "key");
    }
  }
}
