package dev.tern.raft;

import java.util.List;

/**
 * What a snapshot stands for (Raft paper, section 7): the state machine after applying every entry up to
 * {@code lastIncludedIndex}, whose term was {@code lastIncludedTerm}, in a cluster of {@code members}
 * (the configuration as of that index).
 */
public record SnapshotMeta(long lastIncludedIndex, long lastIncludedTerm, List<String> members) {
  public SnapshotMeta {
    if (lastIncludedIndex < 1) throw new IllegalArgumentException("a snapshot covers at least entry 1, got " + lastIncludedIndex);
    if (lastIncludedTerm < 1) throw new IllegalArgumentException("terms start at 1, got " + lastIncludedTerm);
    members = List.copyOf(members);
  }
}
