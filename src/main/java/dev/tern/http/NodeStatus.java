package dev.tern.http;

import dev.tern.cluster.Member;
import dev.tern.raft.Configuration;
import dev.tern.raft.RaftMessage.FollowerStatus;
import java.util.List;

/**
 * What {@code GET /v1/status} reports. {@code leader} is null when this node knows of no leader in its term;
 * {@code serving} is whether it can answer requests now (it knows a leader). {@code firstLogIndex} is the
 * first entry its log still holds and {@code snapshotIndex} the last entry its latest snapshot covers (0 if
 * none): together they show compaction at work. On a leader, {@code followers} holds each follower's
 * replication progress, and {@code commitStall} says why it has been unable to commit for longer than
 * {@code tern.raft.commit-stall-timeout} (null while it commits): then it is not serving. {@code quorumLost} says
 * why a node that led stepped down for want of a quorum (CheckQuorum), until it hears from a leader again.
 * {@code configuration} is
 * the Raft configuration in force on this node (dissertation 4.1: its latest, committed or not), from the entry at
 * {@code configurationIndex} (0: the bootstrap configuration; null when the replica did not answer).
 */
public record NodeStatus(
    String id,
    String role,
    long term,
    String leader,
    long commitIndex,
    long lastApplied,
    List<Member> members,
    boolean serving,
    long firstLogIndex,
    long snapshotIndex,
    List<FollowerStatus> followers,
    String commitStall,
    String quorumLost,
    Configuration configuration,
    long configurationIndex) {

  public NodeStatus {
    followers = followers == null ? List.of() : List.copyOf(followers);
  }

  /** Without a replicated configuration (a node whose replica did not answer, and tests). */
  public NodeStatus(
      String id, String role, long term, String leader, long commitIndex, long lastApplied, List<Member> members,
      boolean serving, long firstLogIndex, long snapshotIndex, List<FollowerStatus> followers, String commitStall) {
    this(id, role, term, leader, commitIndex, lastApplied, members, serving, firstLogIndex, snapshotIndex, followers,
        commitStall, null, null, 0);
  }

  public NodeStatus(
      String id, String role, long term, String leader, long commitIndex, long lastApplied, List<Member> members,
      boolean serving) {
    this(id, role, term, leader, commitIndex, lastApplied, members, serving, 1, 0, List.of(), null);
  }

  public NodeStatus(
      String id, String role, long term, String leader, long commitIndex, long lastApplied, List<Member> members,
      boolean serving, long firstLogIndex, long snapshotIndex) {
    this(id, role, term, leader, commitIndex, lastApplied, members, serving, firstLogIndex, snapshotIndex, List.of(),
        null);
  }
}
