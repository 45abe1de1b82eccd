package dev.tern.http;

import dev.tern.cluster.Member;
import java.util.List;

/**
 * What {@code GET /v1/status} reports. {@code leader} is null when this node knows of no leader in its term;
 * {@code serving} is whether it can answer requests now (it knows a leader). {@code firstLogIndex} is the
 * first entry its log still holds and {@code snapshotIndex} the last entry its latest snapshot covers (0 if
 * none): together they show compaction at work.
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
    long snapshotIndex) {

  public NodeStatus(
      String id, String role, long term, String leader, long commitIndex, long lastApplied, List<Member> members,
      boolean serving) {
    this(id, role, term, leader, commitIndex, lastApplied, members, serving, 1, 0);
  }
}
