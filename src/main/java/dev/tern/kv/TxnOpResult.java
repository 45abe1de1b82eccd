package dev.tern.kv;

import java.util.Objects;

/** What one {@link TxnOp} of the branch that ran did, in the same order ({@link KvResult.TxnDone}). */
public sealed interface TxnOpResult {

  String key();

  /** The key now has the transaction's revision. */
  record Put(String key, long revision) implements TxnOpResult {
    public Put {
      Objects.requireNonNull(key, "key");
    }
  }

  /** {@code deleted}: the key was present (then it was removed at the transaction's revision). */
  record Delete(String key, boolean deleted) implements TxnOpResult {
    public Delete {
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * The key as read: {@code revision} 0 when absent. {@code value} is null when absent, and in a result remembered
   * for a repeated command id (the deduplication window keeps no values).
   */
  record Get(String key, Bytes value, long revision) implements TxnOpResult {
    public Get {
      Objects.requireNonNull(key, "key");
    }

    public boolean found() {
      return revision > 0;
    }
  }
}
