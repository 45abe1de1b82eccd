package dev.tern.http;

import dev.tern.cluster.Member;
import java.util.List;

/**
 * What {@code GET /v1/status} reports. {@code leader} is null when this node knows of no leader in its term;
 * {@code serving} is whether it can answer requests now (it knows a leader).
 */
public record NodeStatus(
    String id,
    String role,
    long term,
    String leader,
    long commitIndex,
    long lastApplied,
    List<Member> members,
    boolean serving) {}
