package dev.tern.raft;

import java.util.List;
import java.util.Objects;

/**
 * What a snapshot stands for (Raft paper, section 7): the state machine after applying every entry up to
 * {@code lastIncludedIndex}, whose term was {@code lastIncludedTerm}, in the cluster {@code configuration} in force
 * at that index (dissertation 4.1, 5.1: the snapshot replaces the configuration entries it covers).
 */
public record SnapshotMeta(long lastIncludedIndex, long lastIncludedTerm, Configuration configuration) {
  public SnapshotMeta {
    if (lastIncludedIndex < 1) throw new IllegalArgumentException("a snapshot covers at least entry 1, got " + lastIncludedIndex);
    if (lastIncludedTerm < 1) throw new IllegalArgumentException("terms start at 1, got " + lastIncludedTerm);
    Objects.requireNonNull(configuration, "configuration");
  }

  /** A snapshot of a cluster of voters known by id only. */
  public SnapshotMeta(long lastIncludedIndex, long lastIncludedTerm, List<String> members) {
    this(lastIncludedIndex, lastIncludedTerm, Configuration.ofVoters(members));
  }

  /** Every server's id, in id order. */
  public List<String> members() {
    return configuration.ids();
  }
}
