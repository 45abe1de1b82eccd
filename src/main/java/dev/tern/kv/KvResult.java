package dev.tern.kv;

/**
 * The outcome of applying one {@link KvCommand}, handed to the front on the same node (it never crosses the
 * network: a front that proposed through another node's leader waits for its own replica to apply the entry).
 */
public sealed interface KvResult {

  /**
   * A put, or a compare-and-set that matched; {@code revision} is the index of the entry that wrote it. The value
   * is null in a result remembered for a repeated command id (the proposer knows what it wrote).
   */
  record Written(String key, Bytes value, long revision) implements KvResult {
    public Written(String key, String value, long revision) {
      this(key, value == null ? null : Bytes.utf8(value), revision);
    }
  }

  /** {@code revision} is the index of the delete entry, so clients can order it against other writes. */
  record Deleted(String key, long revision) implements KvResult {}

  /** A delete or get of a key that is absent. */
  record NotFound(String key) implements KvResult {}

  /** A get of a present key. */
  record Value(String key, Bytes value, long revision) implements KvResult {
    public Value(String key, String value, long revision) {
      this(key, Bytes.utf8(value), revision);
    }
  }

  /** {@code currentRevision} is 0 when the key is absent, so the client can retry with it. */
  record CasConflict(String key, long currentRevision) implements KvResult {}

  /**
   * A transaction ran: {@code succeeded} says which branch (every compare held: success), {@code revision} is its
   * entry's index (the revision of every key it wrote), {@code results} one per operation of that branch.
   */
  record TxnDone(boolean succeeded, long revision, java.util.List<TxnOpResult> results) implements KvResult {
    public TxnDone {
      results = java.util.List.copyOf(results);
    }
  }

  /** The entry's bytes did not decode; it was applied as a no-op so every replica still agrees. */
  record Invalid(String reason) implements KvResult {}

  /** A lease granted: {@code lease} is its id (the grant's index, also its {@code revision}). */
  record LeaseGranted(long lease, long ttlMillis, long revision) implements KvResult {}

  /** A lease that goes on: renewed by a keepalive, or renewed since the renewal an expiry counted from. */
  record LeaseAlive(long lease, long ttlMillis) implements KvResult {}

  /** A lease ended (revoked or expired): its {@code keys} were deleted at {@code revision}. */
  record LeaseRevoked(long lease, long revision, java.util.List<String> keys) implements KvResult {
    public LeaseRevoked {
      keys = java.util.List.copyOf(keys);
    }
  }

  /** The lease named does not exist (never granted, or already ended); nothing changed. */
  record LeaseNotFound(long lease) implements KvResult {}

  /**
   * A {@link KvCommand.Check} applied at {@code index}: this replica's digest of its state at that index is being
   * computed ({@link KvStateMachine#digestAt}). Never kept in the deduplication window.
   */
  record Checked(long index) implements KvResult {}
}
