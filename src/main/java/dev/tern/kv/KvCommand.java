package dev.tern.kv;

import java.util.List;
import java.util.Objects;

/**
 * A client request as it travels through the Raft log ({@link KvCodec} gives its bytes). {@link #id()} is chosen by
 * the proposing node so that, when the entry is applied, it can find the client waiting for this very command.
 * Values are any bytes ({@link Bytes}); the constructors that take a String store its UTF-8 encoding.
 */
public sealed interface KvCommand {

  String id();

  record Put(String id, String key, Bytes value) implements KvCommand {
    public Put {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }

    public Put(String id, String key, String value) {
      this(id, key, Bytes.utf8(value));
    }
  }

  record Delete(String id, String key) implements KvCommand {
    public Delete {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
    }
  }

  /** Writes only if the key's revision is still {@code expectedRevision}; 0 means "only if absent". */
  record CompareAndSet(String id, String key, long expectedRevision, Bytes value) implements KvCommand {
    public CompareAndSet {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      // Revisions are log indexes (>= 1) or 0 for absent; a negative one could never match and is a caller bug.
      if (expectedRevision < 0) {
        throw new IllegalArgumentException("expectedRevision must be >= 0, got " + expectedRevision);
      }
    }

    public CompareAndSet(String id, String key, long expectedRevision, String value) {
      this(id, key, expectedRevision, Bytes.utf8(value));
    }
  }

  /** A read that goes through the log, so it is linearizable at the cost of a round of replication. */
  record Get(String id, String key) implements KvCommand {
    public Get {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * A transaction: if every compare holds on the state it is applied to, the {@code success} operations run, else
   * the {@code failure} ones, in order, all in this one entry: every key it writes gets the entry's index as its
   * revision, and no other command sees a part of it.
   */
  record Txn(String id, List<TxnCompare> compares, List<TxnOp> success, List<TxnOp> failure) implements KvCommand {
    public Txn {
      Objects.requireNonNull(id, "id");
      compares = List.copyOf(compares);
      success = List.copyOf(success);
      failure = List.copyOf(failure);
    }
  }
}
