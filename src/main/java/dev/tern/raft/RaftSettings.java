package dev.tern.raft;

import com.typesafe.config.Config;
import java.time.Duration;

/** The tunables of the Raft replica, read from the {@code tern.raft} section of the configuration. */
public record RaftSettings(
    Duration electionTimeoutMin,
    Duration electionTimeoutMax,
    Duration heartbeatInterval,
    int maxAppendEntries,
    long maxAppendBytes,
    int maxInflightAppends,
    boolean preVote,
    long snapshotThresholdBytes,
    int snapshotTrailingEntries,
    int installSnapshotChunkBytes,
    Duration commitStallTimeout,
    long snapshotTrailingBytes,
    boolean checkQuorum) {

  /** A leader that cannot commit for this long reports it, unless the settings say otherwise. */
  public static final Duration DEFAULT_COMMIT_STALL_TIMEOUT = Duration.ofSeconds(5);

  /** Without snapshots: the log is never compacted (for tests that do not exercise section 7). */
  public static final long NEVER = Long.MAX_VALUE;
  private static final int DEFAULT_CHUNK_BYTES = 64 * 1024;

  /** Settings without a bound in bytes on the trailing entries (only their count). */
  public RaftSettings(
      Duration electionTimeoutMin,
      Duration electionTimeoutMax,
      Duration heartbeatInterval,
      int maxAppendEntries,
      long maxAppendBytes,
      int maxInflightAppends,
      boolean preVote,
      long snapshotThresholdBytes,
      int snapshotTrailingEntries,
      int installSnapshotChunkBytes,
      Duration commitStallTimeout) {
    this(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries, maxAppendBytes,
        maxInflightAppends, preVote, snapshotThresholdBytes, snapshotTrailingEntries, installSnapshotChunkBytes,
        commitStallTimeout, Long.MAX_VALUE, false);
  }

  /**
   * Settings without CheckQuorum (the protocol of the paper's Figure 2): a leader never steps down for silence,
   * and voters do not ignore RequestVotes while they hear from a leader.
   */
  public RaftSettings(
      Duration electionTimeoutMin,
      Duration electionTimeoutMax,
      Duration heartbeatInterval,
      int maxAppendEntries,
      long maxAppendBytes,
      int maxInflightAppends,
      boolean preVote,
      long snapshotThresholdBytes,
      int snapshotTrailingEntries,
      int installSnapshotChunkBytes,
      Duration commitStallTimeout,
      long snapshotTrailingBytes) {
    this(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries, maxAppendBytes,
        maxInflightAppends, preVote, snapshotThresholdBytes, snapshotTrailingEntries, installSnapshotChunkBytes,
        commitStallTimeout, snapshotTrailingBytes, false);
  }

  public RaftSettings(
      Duration electionTimeoutMin,
      Duration electionTimeoutMax,
      Duration heartbeatInterval,
      int maxAppendEntries,
      long maxAppendBytes,
      int maxInflightAppends,
      boolean preVote) {
    this(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries, maxAppendBytes,
        maxInflightAppends, preVote, NEVER, 0, DEFAULT_CHUNK_BYTES, DEFAULT_COMMIT_STALL_TIMEOUT);
  }

  /** Settings without pre-vote: the protocol exactly as in the paper's Figure 2. */
  public RaftSettings(
      Duration electionTimeoutMin,
      Duration electionTimeoutMax,
      Duration heartbeatInterval,
      int maxAppendEntries,
      long maxAppendBytes,
      int maxInflightAppends) {
    this(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries, maxAppendBytes,
        maxInflightAppends, false);
  }

  public RaftSettings withPreVote(boolean on) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries,
        maxAppendBytes, maxInflightAppends, on, snapshotThresholdBytes, snapshotTrailingEntries,
        installSnapshotChunkBytes, commitStallTimeout, snapshotTrailingBytes, checkQuorum);
  }

  /**
   * With snapshots: one is taken once the entries applied since the last one add up to {@code thresholdBytes};
   * the log then keeps {@code trailingEntries} entries before it (for followers slightly behind), and a
   * snapshot is sent in pieces of {@code chunkBytes}.
   */
  public RaftSettings withSnapshots(long thresholdBytes, int trailingEntries, int chunkBytes) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries,
        maxAppendBytes, maxInflightAppends, preVote, thresholdBytes, trailingEntries, chunkBytes, commitStallTimeout,
        snapshotTrailingBytes, checkQuorum);
  }

  /** A leader unable to commit for {@code timeout} reports itself unhealthy. */
  public RaftSettings withCommitStallTimeout(Duration timeout) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries,
        maxAppendBytes, maxInflightAppends, preVote, snapshotThresholdBytes, snapshotTrailingEntries,
        installSnapshotChunkBytes, timeout, snapshotTrailingBytes, checkQuorum);
  }

  /**
   * The entries kept before a snapshot add up to at most {@code bytes} (and number at most
   * snapshot-trailing-entries): with large values a count alone would keep gigabytes in memory.
   */
  public RaftSettings withSnapshotTrailingBytes(long bytes) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries,
        maxAppendBytes, maxInflightAppends, preVote, snapshotThresholdBytes, snapshotTrailingEntries,
        installSnapshotChunkBytes, commitStallTimeout, bytes, checkQuorum);
  }

  /**
   * With CheckQuorum (dissertation 6.2, as etcd pairs it with pre-vote): a leader that has not heard from a
   * majority within an election timeout steps down, and a voter that hears from a leader ignores RequestVotes of a
   * higher term (4.2.3) unless they come from a leadership transfer (3.10).
   */
  public RaftSettings withCheckQuorum(boolean on) {
    return new RaftSettings(electionTimeoutMin, electionTimeoutMax, heartbeatInterval, maxAppendEntries,
        maxAppendBytes, maxInflightAppends, preVote, snapshotThresholdBytes, snapshotTrailingEntries,
        installSnapshotChunkBytes, commitStallTimeout, snapshotTrailingBytes, on);
  }

  public RaftSettings {
    if (electionTimeoutMin.isNegative() || electionTimeoutMin.isZero()) {
      throw new IllegalArgumentException("tern.raft.election-timeout-min must be positive");
    }
    if (electionTimeoutMax.compareTo(electionTimeoutMin) < 0) {
      throw new IllegalArgumentException("tern.raft.election-timeout-max must be >= election-timeout-min");
    }
    // A follower must hear several heartbeats per election timeout or it will start needless elections.
    if (heartbeatInterval.multipliedBy(2).compareTo(electionTimeoutMin) > 0) {
      throw new IllegalArgumentException("tern.raft.heartbeat-interval must be at most half of election-timeout-min");
    }
    if (maxAppendEntries < 1) throw new IllegalArgumentException("tern.raft.max-append-entries must be >= 1");
    if (maxAppendBytes < 1) throw new IllegalArgumentException("tern.raft.max-append-bytes must be >= 1");
    if (maxInflightAppends < 1) throw new IllegalArgumentException("tern.raft.max-inflight-appends must be >= 1");
    if (snapshotThresholdBytes < 1) throw new IllegalArgumentException("tern.raft.snapshot-threshold must be >= 1");
    if (snapshotTrailingEntries < 0) throw new IllegalArgumentException("tern.raft.snapshot-trailing-entries must be >= 0");
    if (installSnapshotChunkBytes < 1) {
      throw new IllegalArgumentException("tern.raft.install-snapshot-chunk-bytes must be >= 1");
    }
    if (commitStallTimeout.isNegative() || commitStallTimeout.isZero()) {
      throw new IllegalArgumentException("tern.raft.commit-stall-timeout must be positive");
    }
    if (snapshotTrailingBytes < 0) throw new IllegalArgumentException("tern.raft.snapshot-trailing-bytes must be >= 0");
  }

  public static RaftSettings fromConfig(Config raft) {
    return new RaftSettings(
        raft.getDuration("election-timeout-min"),
        raft.getDuration("election-timeout-max"),
        raft.getDuration("heartbeat-interval"),
        raft.getInt("max-append-entries"),
        raft.getBytes("max-append-bytes"),
        raft.getInt("max-inflight-appends"),
        raft.getBoolean("pre-vote"),
        raft.getBytes("snapshot-threshold"),
        raft.getInt("snapshot-trailing-entries"),
        Math.toIntExact(raft.getBytes("install-snapshot-chunk-bytes")),
        raft.getDuration("commit-stall-timeout"),
        raft.getBytes("snapshot-trailing-bytes"),
        raft.getBoolean("check-quorum"));
  }
}
