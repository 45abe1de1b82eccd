package dev.tern.kv;

import java.util.Objects;

/** One operation of a transaction's branch ({@link KvCommand.Txn}); the branch runs them in order. */
public sealed interface TxnOp {

  String key();

  record Put(String key, Bytes value) implements TxnOp {
    public Put {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
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
