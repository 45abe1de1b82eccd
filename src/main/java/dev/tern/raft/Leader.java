package dev.tern.raft;

import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.ElectionTimeout;
import dev.tern.raft.RaftMessage.Flush;
import dev.tern.raft.RaftMessage.HeartbeatTick;
import dev.tern.raft.RaftMessage.Propose;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.RequestVote;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;

/**
 * Leader (Figure 2, "Leaders"; sections 5.3 and 5.4): accepts proposals, replicates the log with pipelined,
 * batched AppendEntries, sends heartbeats, and advances commitIndex by the majority rule restricted to
 * entries of its own term (section 5.4.2, Figure 8).
 */
final class Leader extends RoleBehavior {
  private final Map<String, Progress> progress = new LinkedHashMap<>();
  private boolean flushScheduled;

  private Leader(ReplicaState s) {
    super(s);
    for (String peer : s.peers) progress.put(peer, new Progress(peer, s.log.lastIndex() + 1));
  }

  static Behavior<RaftMessage> start(ReplicaState s, int votes) {
    s.timers.cancel(ReplicaState.ELECTION_TIMER);
    s.leaderId = s.id;
    s.logger().info("{}: leader in term {} with {} of {} votes", s.id, s.currentTerm, votes, s.clusterSize());
    Leader leader = new Leader(s);
    // Section 5.4.2 / 8: a no-op of the new term lets the leader commit (and so learn) everything before it.
    s.appendInMemory(LogEntry.noop(s.log.lastIndex() + 1, s.currentTerm));
    s.timers.startTimerWithFixedDelay(
        ReplicaState.HEARTBEAT_TIMER, HeartbeatTick.INSTANCE, s.settings.heartbeatInterval());
    leader.flush();
    return leader;
  }

  @Override
  RaftMessage.Role role() {
    return RaftMessage.Role.LEADER;
  }

  @Override
  Behavior<RaftMessage> onDurable() {
    maybeCommit();
    return this;
  }

  @Override
  Behavior<RaftMessage> onRoleMessage(RaftMessage m) {
    if (m instanceof Propose p) {
      LogEntry entry = LogEntry.command(s.log.lastIndex() + 1, s.currentTerm, p.command());
      s.appendInMemory(entry);
      p.replyTo().tell(new ProposeResponse.Accepted(entry.index(), entry.term()));
      if (!flushScheduled) {
        flushScheduled = true;
        s.ctx.getSelf().tell(Flush.INSTANCE);
      }
    } else if (m instanceof Flush) {
      flush();
    } else if (m instanceof AppendEntriesResponse r) {
      if (r.term() == s.currentTerm) onAppendResponse(r);
    } else if (m instanceof HeartbeatTick) {
      onHeartbeat();
    } else if (m instanceof RequestVote rv) {
      answerRequestVote(rv); // same term: we voted for ourselves, so this refuses
    } else if (m instanceof AppendEntries ae) {
      if (ae.term() < s.currentTerm) {
        rejectStaleAppend(ae);
      } else {
        // Two leaders in one term would break Election Safety (Figure 3); it cannot happen unless
        // persistent state was lost.
        s.logger().error("{}: AppendEntries from another leader {} in our term {}", s.id, ae.from(), ae.term());
      }
    } else if (!(m instanceof ElectionTimeout) && !isIgnorable(m)) {
      s.logger().warn("{}: leader ignores unexpected {}", s.id, m);
    }
    return this;
  }

  /** Writes the batch of entries appended since the last flush, and sends it to every follower. */
  private void flush() {
    flushScheduled = false;
    s.persistAppended();
    for (Progress p : progress.values()) sendAppends(p);
    maybeCommit(); // a single-node cluster commits on its own write
  }

  /** Sends as many AppendEntries as this follower's flow control allows. Returns whether any was sent. */
  private boolean sendAppends(Progress p) {
    boolean sent = false;
    while (p.canSend(s.settings.maxInflightAppends())) {
      List<LogEntry> entries =
          s.log.slice(p.nextIndex, s.settings.maxAppendEntries(), s.settings.maxAppendBytes());
      // In replicate mode there is nothing to do without new entries; a probe may be empty: it only asks
      // whether the logs agree at nextIndex - 1.
      if (entries.isEmpty() && !p.probing) break;
      long prev = p.nextIndex - 1;
      AppendEntries ae = new AppendEntries(s.currentTerm, s.id, prev, s.log.termAt(prev), entries, s.commitIndex);
      s.sendNow(p.peer, ae);
      p.sent(ae.lastIndex());
      sent = true;
    }
    return sent;
  }

  /**
   * A heartbeat asserts leadership and carries commitIndex. It is anchored at matchIndex, where the logs
   * are known to agree, so it succeeds without carrying entries and can never conflict with the pipeline.
   */
  private void sendHeartbeat(Progress p) {
    s.sendNow(p.peer, new AppendEntries(
        s.currentTerm, s.id, p.matchIndex, s.log.termAt(p.matchIndex), List.of(), s.commitIndex));
  }

  private void onHeartbeat() {
    for (Progress p : progress.values()) {
      // Requests or their replies were lost (or the follower was down): resend from what is known to match.
      if (!p.inflight.isEmpty() && ++p.ticksWithoutProgress >= 2) {
        s.logger().debug("{}: nothing acknowledged by {} for two heartbeats, probing again", s.id, p);
        p.probeFrom(p.matchIndex + 1);
      }
      if (!sendAppends(p)) sendHeartbeat(p);
    }
  }

  private void onAppendResponse(AppendEntriesResponse r) {
    Progress p = progress.get(r.from());
    if (p == null) return;
    if (r.success()) {
      if (p.acknowledged(r.matchIndex())) maybeCommit();
      sendAppends(p);
      return;
    }
    // A rejection at or below matchIndex, or not at the probe we are waiting on, answers an old request.
    if (r.rejectedIndex() <= p.matchIndex) return;
    if (p.probing && r.rejectedIndex() != p.nextIndex - 1) return;
    long next;
    if (r.conflictTerm() > 0) {
      // If we hold entries of the follower's conflicting term, our logs agree up to our last one of them
      // (Log Matching); otherwise skip the follower's whole term.
      long lastOfTerm = s.log.lastIndexOfTerm(r.conflictTerm());
      next = lastOfTerm > 0 ? lastOfTerm + 1 : r.conflictIndex();
    } else {
      next = r.conflictIndex(); // the follower's log ends before prevLogIndex
    }
    // The entry at rejectedIndex is known not to match, so the next probe goes below it.
    next = Math.min(next, r.rejectedIndex());
    s.logger().debug("{}: {} rejected at {}, probing from {}", s.id, r.from(), r.rejectedIndex(), next);
    p.probeFrom(next);
    sendAppends(p);
  }

  /**
   * Figure 2, "Leaders": if there exists an N > commitIndex such that a majority of matchIndex[i] >= N and
   * log[N].term == currentTerm, set commitIndex = N. The leader counts itself only up to what it has made
   * durable. Entries of earlier terms are committed only indirectly, by this rule (Figure 8).
   */
  private void maybeCommit() {
    long[] match = new long[progress.size() + 1];
    int i = 0;
    for (Progress p : progress.values()) match[i++] = p.matchIndex;
    match[i] = s.durableIndex;
    Arrays.sort(match);
    // With the values sorted ascending, this one is held by a majority (itself and every one above it).
    long n = match[(match.length - 1) / 2];
    if (n > s.commitIndex && s.log.termAt(n) == s.currentTerm) {
      s.commitTo(n);
      // Followers learn the new commitIndex at once, with new entries if there are some.
      for (Progress p : progress.values()) {
        if (!sendAppends(p)) sendHeartbeat(p);
      }
    }
  }

  /** For tests: the leader's view of one follower. */
  Progress progressOf(String peer) {
    return progress.get(peer);
  }
}
