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

  /** {@code lease} is the lease the key is attached to ({@link #NO_LEASE}: none; a put detaches it from any other). */
  record Put(String id, String key, Bytes value, long lease) implements KvCommand {
    public Put {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
      if (lease < 0) throw new IllegalArgumentException("lease must be >= 0, got " + lease);
    }

    public Put(String id, String key, Bytes value) {
      this(id, key, value, NO_LEASE);
    }

    public Put(String id, String key, String value) {
      this(id, key, Bytes.utf8(value));
    }
  }

  /** No lease: lease ids are the log indexes of their grants, so never 0. */
  long NO_LEASE = 0;

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

  /**
   * Grants a lease of {@code ttlMillis}; its id is this entry's index. The leader revokes it ({@link LeaseExpire}) once
   * it goes {@code ttlMillis} without a {@link LeaseKeepAlive}, by the leader's own clock.
   */
  record LeaseGrant(String id, long ttlMillis) implements KvCommand {
    public LeaseGrant {
      Objects.requireNonNull(id, "id");
      if (ttlMillis < 1) throw new IllegalArgumentException("ttlMillis must be >= 1, got " + ttlMillis);
    }
  }

  /** Renews a lease: its {@code renewedAt} becomes this entry's index, and the leader gives it its whole TTL again. */
  record LeaseKeepAlive(String id, long lease) implements KvCommand {
    public LeaseKeepAlive {
      Objects.requireNonNull(id, "id");
    }
  }

  /** A client revokes a lease: it ends, and its keys are deleted, all at this entry's revision. */
  record LeaseRevoke(String id, long lease) implements KvCommand {
    public LeaseRevoke {
      Objects.requireNonNull(id, "id");
    }
  }

  /**
   * The leader's revocation of a lease it saw go its TTL without renewal: applied only if the lease was not renewed
   * since the renewal the leader counted from ({@code renewedAt}), so a keepalive committed before it always wins.
   */
  record LeaseExpire(String id, long lease, long renewedAt) implements KvCommand {
    public LeaseExpire {
      Objects.requireNonNull(id, "id");
    }
  }

  /**
   * A consistency check (docs/operations.md, "Consistency checks"): changes nothing, but every replica that applies it
   * at index I digests its state at I ({@link DigestChecks}), so that the members can compare digests taken at the
   * same applied index. Not kept in the deduplication window (it has no outcome to repeat).
   */
  record Check(String id) implements KvCommand {
    public Check {
      Objects.requireNonNull(id, "id");
    }
  }
}
