package dev.tern.raft;

import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.ElectionTimeout;
import dev.tern.raft.RaftMessage.Flush;
import dev.tern.raft.RaftMessage.HeartbeatTick;
import dev.tern.raft.RaftMessage.Propose;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.ReadIndex;
import dev.tern.raft.RaftMessage.ReadIndexResponse;
import java.util.ArrayList;
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
  private final CommitWatch commitWatch;
  private final QuorumCheck quorumCheck;
  /**
   * How many bytes of a large request are assumed to cross the network per heartbeat before it counts as lost
   * (a slow link makes the leader wait longer before sending a multi-megabyte entry again, never resend early).
   */
  static final long LARGE_BYTES_PER_TICK = 512 * 1024;

  // ReadIndex (dissertation 6.4). Every AppendEntries carries the latest round; a read is answered once a
  // majority has replied to a request of its round or later, which proves no newer leader existed when the
  // read arrived. Reads arriving together share a round.
  private long readRound;
  /** The round being confirmed (0 = none), and the reads waiting on it. */
  private long confirmingRound;
  private List<PendingRead> confirming = new ArrayList<>();
  /** Reads that arrived while a round was being confirmed: they need a round that began after them. */
  private List<PendingRead> nextRound = new ArrayList<>();
  /** Reads that arrived before this leader committed an entry of its term, so before it knew commitIndex. */
  private final List<ReadIndex> awaitingCommit = new ArrayList<>();

  private record PendingRead(long readIndex, ReadIndex request) {
    void answer(ReadIndexResponse.Ok ok) {
      request.replyTo().tell(ok);
    }
  }

  /** The configuration's servers, voters and majorities, and the changes in progress (dissertation chapter 4). */
  private final LeaderMembership membership;
  /** This leader removed itself and the change is committed: it steps down (dissertation 4.2.2). */
  private boolean removed;

  private Leader(ReplicaState s) {
    super(s);
    commitWatch = new CommitWatch(s.id, s.logger(), s.settings.heartbeatInterval(), s.settings.commitStallTimeout());
    quorumCheck = new QuorumCheck(s.settings.heartbeatInterval(), s.settings.electionTimeoutMax());
    membership = new LeaderMembership(s, progress, this::onConfigurationAppended);
    membership.update(0);
  }

  static Behavior<RaftMessage> start(ReplicaState s, int votes) {
    s.timers.cancel(ReplicaState.ELECTION_TIMER);
    s.leaderId = s.id;
    s.observer.leaderChanged(s.currentTerm, s.id);
    s.quorumLost = null;
    LeadershipTransfer.leaderKnown(s); // a transfer this node started before, if another election made it leader
    Leader leader = new Leader(s);
    s.logger().info("{}: leader in term {} with {} of {} votes", s.id, s.currentTerm, votes, leader.membership.voterCount());
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
  boolean inLeaderLease() {
    return true;
  }

  /** A leader ignores a higher term's RequestVote only while a majority answered it lately (CheckQuorum). */
  @Override
  boolean inVoteLease() {
    return quorumCheck.inLease(commitWatch.ticks(), progress.values(), s);
  }

  @Override
  Behavior<RaftMessage> onDurable() {
    maybeCommit();
    return removed ? stepDownRemoved() : this;
  }

  @Override
  Behavior<RaftMessage> onRoleMessage(RaftMessage m) {
    if (m instanceof Propose p) {
      if (s.transfer != null) { // any older transfer ended when this node became leader (Leader.start)
        // Handing leadership over (dissertation 3.10): the proposer asks again, and finds the new leader.
        p.replyTo().tell(new ProposeResponse.NotLeader(null, p.requestId()));
        return this;
      }
      LogEntry entry = LogEntry.command(s.log.lastIndex() + 1, s.currentTerm, p.command());
      s.appendInMemory(entry);
      commitWatch.onAppended(); // it waits from now, not from the flush (a heartbeat may come in between)
      p.replyTo().tell(new ProposeResponse.Accepted(entry.index(), entry.term(), p.requestId()));
      scheduleFlush();
    } else if (m instanceof RaftMessage.ChangeMembership c) {
      membership.request(c, commitWatch.ticks());
    } else if (m instanceof RaftMessage.ObservedIncarnation o) {
      membership.publish(o.id(), o.incarnation(), commitWatch.ticks());
    } else if (m instanceof Flush) {
      flush();
    } else if (m instanceof ReadIndex r) {
      onReadIndex(r);
    } else if (m instanceof AppendEntriesResponse r) {
      if (r.term() == s.currentTerm) onAppendResponse(r);
    } else if (m instanceof RaftMessage.InstallSnapshotResponse r) {
      if (r.term() == s.currentTerm) onInstallSnapshotResponse(r);
    } else if (m instanceof RaftMessage.SnapshotChunkRead r) {
      onChunkRead(r);
    } else if (m instanceof HeartbeatTick) {
      onHeartbeat();
      String lost = s.settings.checkQuorum() ? quorumCheck.onTick(commitWatch.ticks(), progress.values(), s) : null;
      if (lost != null) return loseLeadership(lost);
    } else if (m instanceof RaftMessage.TransferLeadership t) {
      LeadershipTransfer.begin(s, t, progress);
      if (s.transfer != null) {
        Progress target = progress.get(s.transfer.target);
        if (!sendAppends(target)) s.transfer.onProgress(s, target); // caught up already: TimeoutNow at once
      }
    } else if (m instanceof RaftMessage.TransferTimeout) {
      LeadershipTransfer.timedOut(s);
    } else if (m instanceof RequestVote rv) {
      answerRequestVote(rv); // same term: we voted for ourselves, so this refuses
    } else if (m instanceof RaftMessage.InstallSnapshot is) {
      if (is.term() < s.currentTerm) {
        s.sendAfterPersist(is.from(), new RaftMessage.InstallSnapshotResponse(s.currentTerm, s.id, is.lastIncludedIndex(), 0, false));
      } else {
        s.logger().error("{}: InstallSnapshot from another leader {} in our term {}", s.id, is.from(), is.term());
      }
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
    return removed ? stepDownRemoved() : this;
  }

  private void scheduleFlush() {
    if (!flushScheduled) {
      flushScheduled = true;
      s.ctx.getSelf().tell(Flush.INSTANCE);
    }
  }

  /** A configuration entry was appended: it waits to commit like any entry, and goes out with the next flush. */
  private void onConfigurationAppended() {
    commitWatch.onAppended();
    scheduleFlush();
  }

  /**
   * Dissertation 4.2.2: a leader that removed itself steps down once the change is committed; until then it
   * managed the cluster without counting itself. As a non-voter it never campaigns; the others elect a leader
   * when their election timers fire.
   */
  private Behavior<RaftMessage> stepDownRemoved() {
    s.logger().info("{}: the configuration {} without this node is committed: stepping down", s.id, s.configuration());
    onLeaving();
    s.leaderId = null;
    return Follower.become(s);
  }

  /** Writes the batch of entries appended since the last flush, and sends it to every follower. */
  private void flush() {
    flushScheduled = false;
    if (s.log.lastIndex() > s.commitIndex) commitWatch.onAppended();
    s.persistAppended();
    for (Progress p : progress.values()) sendAppends(p);
    maybeCommit(); // a single-node cluster commits on its own write
  }

  /** Sends as many AppendEntries as this follower's flow control allows. Returns whether any was sent. */
  private boolean sendAppends(Progress p) {
    if (p.snapshot == null && p.nextIndex <= s.log.baseIndex()) {
      // A follower that does not answer (stopped, cut off) gets heartbeats only: a full snapshot written for it would
      // be a copy of the whole state for nothing, again after every snapshot threshold while it stays away.
      if (silent(p)) return false;
      // The entries it needs are compacted: send the snapshot instead (Figure 13), once one with the data is written.
      if (!s.snapshotFull) {
        s.requestFullSnapshot();
        return false;
      }
      s.snapshotBeingSent = true;
      s.logger().info("{}: {} needs entries from {} but the log starts after {}: sending snapshot {}", s.id, p.peer,
          p.nextIndex, s.log.baseIndex(), s.snapshot.lastIncludedIndex());
      p.startSnapshot(s.snapshot);
    }
    if (p.snapshot != null) return requestChunk(p);
    boolean sent = false;
    while (p.canSend(s.settings.maxInflightAppends())) {
      List<LogEntry> entries =
          s.log.slice(p.nextIndex, s.settings.maxAppendEntries(), s.settings.maxAppendBytes());
      // In replicate mode there is nothing to do without new entries; a probe may be empty: it only asks
      // whether the logs agree at nextIndex - 1.
      if (entries.isEmpty() && !p.probing) break;
      // The log's slice holds at most max-append-bytes, or one entry larger than that: a large request, which
      // travels alone (see Progress.largeInflightIndex).
      long bytes = entries.size() == 1 ? entries.get(0).approximateSize() : 0;
      boolean large = bytes > s.settings.maxAppendBytes();
      if (large && !p.inflight.isEmpty()) break;
      long prev = p.nextIndex - 1;
      AppendEntries ae =
          new AppendEntries(s.currentTerm, s.id, prev, s.log.termAt(prev), entries, s.commitIndex, readRound);
      s.sendNow(p.peer, ae);
      if (large) p.sentLarge(ae.lastIndex(), bytes);
      else p.sent(ae.lastIndex());
      p.commitSent = Math.max(p.commitSent, Math.min(s.commitIndex, ae.lastIndex()));
      sent = true;
    }
    return sent;
  }

  /**
   * A heartbeat asserts leadership and carries commitIndex. It is anchored at matchIndex, where the logs
   * are known to agree, so it succeeds without carrying entries and can never conflict with the pipeline.
   */
  private void sendHeartbeat(Progress p) {
    // Below our snapshot we no longer know the term at matchIndex; the empty prefix always matches.
    long anchor = p.matchIndex >= s.log.baseIndex() ? p.matchIndex : 0;
    s.sendNow(p.peer, new AppendEntries(
        s.currentTerm, s.id, anchor, s.log.termAt(anchor), List.of(), s.commitIndex, readRound));
    p.commitSent = Math.max(p.commitSent, Math.min(s.commitIndex, anchor));
  }

  // ---- InstallSnapshot (Figure 13) -----------------------------------------------------------------------

  /** Heartbeats without an answer after which a follower counts as away for snapshots (2 s at 50 ms). */
  static final int SILENT_TICKS = 40;

  /**
   * Whether {@code p} has not answered for {@link #SILENT_TICKS} heartbeats (since this leader's term began, if never).
   * Such a follower is not written a full snapshot, and a transfer to it does not keep the next snapshots full: if
   * it comes back, a fresh one is written then (a checkpoint: cheap to take).
   */
  private boolean silent(Progress p) {
    return commitWatch.ticks() - Math.max(p.lastHeardTick, 0) > SILENT_TICKS;
  }

  /** Asks storage for the follower's next piece of the snapshot, unless one is already on its way. */
  private boolean requestChunk(Progress p) {
    if (p.chunkOutstanding) return false;
    p.chunkOutstanding = true;
    SnapshotMeta meta = p.snapshot;
    long offset = p.snapshotOffset;
    String peer = p.peer;
    var self = s.ctx.getSelf();
    s.storage.readSnapshotChunk(meta, offset, s.settings.installSnapshotChunkBytes(),
        chunk -> self.tell(new RaftMessage.SnapshotChunkRead(peer, meta, offset, chunk)));
    return true;
  }

  private void onChunkRead(RaftMessage.SnapshotChunkRead r) {
    Progress p = progress.get(r.peer());
    if (p == null || !r.meta().equals(p.snapshot) || r.offset() != p.snapshotOffset) return; // outdated
    if (r.chunk().data() == null) {
      // A newer snapshot replaced it: start over with that one (or have a full one written first).
      p.snapshotInstalled(p.matchIndex);
      sendAppends(p);
      return;
    }
    byte[] data = r.chunk().data();
    boolean done = r.offset() + data.length >= r.chunk().totalBytes();
    SnapshotMeta meta = r.meta();
    s.sendNow(p.peer, new RaftMessage.InstallSnapshot(s.currentTerm, s.id, meta.lastIncludedIndex(),
        meta.lastIncludedTerm(), meta.configuration(), r.offset(), data, done));
  }

  private void onInstallSnapshotResponse(RaftMessage.InstallSnapshotResponse r) {
    Progress p = progress.get(r.from());
    if (p == null) return;
    p.lastHeardTick = commitWatch.ticks();
    if (r.done()) {
      // Installed (now or by an earlier transfer): its log matches ours up to the snapshot's index.
      if (r.lastIncludedIndex() <= p.matchIndex) return;
      s.logger().info("{}: {} installed snapshot {}", s.id, r.from(), r.lastIncludedIndex());
      p.snapshotInstalled(r.lastIncludedIndex());
      // No commit to try: a snapshot covers only committed entries, so its index is at most our commitIndex.
      sendAppends(p); // its answer tells a leadership transfer whether the target caught up
      return;
    }
    if (p.snapshot == null || r.lastIncludedIndex() != p.snapshot.lastIncludedIndex()) return;
    p.ticksWithoutProgress = 0;
    p.snapshotOffset = r.nextOffset(); // where the follower stands: on from there, or from 0 if it lost it
    p.chunkOutstanding = false;
    requestChunk(p);
  }

  private void onHeartbeat() {
    boolean sending = false;
    for (Progress p : progress.values()) sending |= p.snapshot != null && !silent(p);
    s.snapshotBeingSent = sending;
    commitWatch.onTick(s.log.lastIndex() > s.commitIndex, this::stallReason);
    membership.onTick(commitWatch.ticks());
    for (Progress p : progress.values()) {
      if (p.snapshot != null) {
        // A piece or its answer was lost: send it again from where the follower last stood (not while it is away).
        if (p.chunkOutstanding && ++p.ticksWithoutProgress >= 4 && !silent(p)) {
          p.chunkOutstanding = false;
          p.ticksWithoutProgress = 0;
          requestChunk(p);
        }
        sendHeartbeat(p); // pieces may be slow to read: keep its election timer from firing meanwhile
        continue;
      }
      // Requests or their replies were lost (or the follower was down): resend from what is known to match.
      if (!p.inflight.isEmpty() && ++p.ticksWithoutProgress >= p.lossTicks(LARGE_BYTES_PER_TICK)) {
        s.logger().debug("{}: nothing acknowledged by {} for two heartbeats, probing again", s.id, p);
        // A lost probe is sent again as it was; a lost batch is resent from what is known to match. (Probing
        // from matchIndex + 1 when matchIndex is merely unknown, as after an election, would send a whole
        // snapshot to a follower whose log may well be complete.)
        p.probeFrom(p.probing ? p.nextIndex : p.matchIndex + 1);
      }
      if (!sendAppends(p)) sendHeartbeat(p);
    }
  }

  private void onAppendResponse(AppendEntriesResponse r) {
    Progress p = progress.get(r.from());
    if (p == null) return;
    p.lastHeardTick = commitWatch.ticks();
    if (r.readRound() > p.ackedReadRound) {
      p.ackedReadRound = r.readRound();
      confirmReads();
    }
    if (p.snapshot != null) return; // its log is being replaced by the snapshot: only that transfer counts
    if (r.success()) {
      if (p.acknowledged(r.matchIndex())) maybeCommit();
      if (s.transfer != null) s.transfer.onProgress(s, p);
      // A follower may commit only entries a request has shown to match (Figure 2, AppendEntries step 5).
      // If the commit that covers its newest entries was sent before its acknowledgement arrived, it could
      // not take it, and would apply them only at the next heartbeat: tell it now.
      if (!sendAppends(p) && Math.min(s.commitIndex, p.matchIndex) > p.commitSent) sendHeartbeat(p);
      return;
    }
    // A rejection at or below matchIndex, or not at the probe we are waiting on, answers an old request...
    if (r.rejectedIndex() <= p.matchIndex) {
      // ...unless it answers a heartbeat at matchIndex itself, saying the follower's log now ends before it: the
      // follower lost entries it had acknowledged, which only a lost or replaced disk does (outside Raft's
      // model, see docs/operations.md). Start over from what it holds rather than wait forever.
      if (r.rejectedIndex() != p.matchIndex || r.conflictTerm() != 0 || r.conflictIndex() > p.matchIndex) return;
      s.logger().warn("{}: {} no longer holds the entries up to {} it acknowledged (lost its disk?); replicating"
          + " to it from {}", s.id, r.from(), p.matchIndex, r.conflictIndex());
      p.matchIndex = 0;
      p.probeFrom(r.conflictIndex());
      sendAppends(p);
      return;
    }
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
    // Majorities of the voters in the configuration in force (dissertation 4.1), learners aside (4.2.1).
    long n = membership.majorityMatch();
    if (n > s.commitIndex && s.log.termAt(n) == s.currentTerm) {
      s.commitTo(n);
      commitWatch.onCommit(s.log.lastIndex() > s.commitIndex);
      if (membership.onCommit()) removed = true;
      if (!awaitingCommit.isEmpty()) {
        List<ReadIndex> ready = List.copyOf(awaitingCommit);
        awaitingCommit.clear();
        for (ReadIndex read : ready) onReadIndex(read);
      }
      // Followers learn the new commitIndex at once, with new entries if there are some.
      for (Progress p : progress.values()) {
        if (!sendAppends(p)) sendHeartbeat(p);
      }
    }
  }

  private void onReadIndex(ReadIndex r) {
    // Until it commits an entry of its own term the leader does not know the latest commitIndex.
    if (s.log.termAt(s.commitIndex) != s.currentTerm) {
      awaitingCommit.add(r);
      return;
    }
    PendingRead read = new PendingRead(s.commitIndex, r);
    if (membership.alone()) { // alone, it is the majority
      r.replyTo().tell(new ReadIndexResponse.Ok(read.readIndex(), r.requestId()));
      return;
    }
    nextRound.add(read);
    if (confirmingRound == 0) startReadRound();
  }

  private void startReadRound() {
    confirmingRound = ++readRound;
    confirming = nextRound;
    nextRound = new ArrayList<>();
    for (Progress p : progress.values()) sendHeartbeat(p);
  }

  private void confirmReads() {
    if (confirmingRound == 0 || !membership.confirmed(confirmingRound)) return;
    for (PendingRead read : confirming) read.answer(new ReadIndexResponse.Ok(read.readIndex(), read.request().requestId()));
    confirming = new ArrayList<>();
    confirmingRound = 0;
    if (!nextRound.isEmpty()) startReadRound();
  }

  /** Deposed: the reads it holds cannot be confirmed by it any more. */
  @Override
  void onLeaving() {
    s.snapshotBeingSent = false;
    membership.onLeaving();
    commitWatch.onLeaving();
    s.timers.cancel(ReplicaState.HEARTBEAT_TIMER); // the one place it stops: every way out of leadership comes here
    List<ReadIndex> waiting = new ArrayList<>();
    for (PendingRead r : confirming) waiting.add(r.request());
    for (PendingRead r : nextRound) waiting.add(r.request());
    waiting.addAll(awaitingCommit);
    for (ReadIndex w : waiting) w.replyTo().tell(new ReadIndexResponse.NotLeader(null, w.requestId()));
    // (This Leader is done with: the role that follows is a new Follower, so the lists need no clearing.)
  }

  /**
   * CheckQuorum (dissertation 6.2): no majority answered within an election timeout, so a leader may already lead
   * a later term elsewhere. Step down: pending reads are answered NotLeader, /health says why, and proposals go
   * elsewhere. The term stays; the next AppendEntries of a leader (or our own election) moves us on.
   */
  private Behavior<RaftMessage> loseLeadership(String why) {
    s.logger().warn("{}: stepping down as leader of term {}: {} (CheckQuorum)", s.id, s.currentTerm, why);
    onLeaving();
    s.leaderId = null;
    s.quorumLost = "stepped down as leader of term " + s.currentTerm + ": " + why;
    return Follower.become(s);
  }

  /** Why entries wait: which followers have not acknowledged them, and how far the leader's own disk is. */
  private String stallReason() {
    StringBuilder why = new StringBuilder("entries ").append(s.commitIndex + 1).append("..").append(s.log.lastIndex())
        .append(" lack a majority;");
    for (Progress p : progress.values()) {
      why.append(' ').append(p.peer).append(membership.isVoter(p.peer) ? "" : " (not voting)").append(" has ")
          .append(p.matchIndex);
      if (p.snapshot != null) why.append(" (receiving snapshot ").append(p.snapshot.lastIncludedIndex()).append(')');
      why.append(", last answered ").append(p.lastHeardTick < 0 ? "never" : heardAgo(p) + " ms ago").append(';');
    }
    why.append(" own log durable to ").append(s.durableIndex);
    return why.toString();
  }

  /** Milliseconds since the follower last answered this leader, or -1 if it never did. */
  private long heardAgo(Progress p) {
    return p.lastHeardTick < 0 ? -1 : commitWatch.millis(commitWatch.ticks() - p.lastHeardTick);
  }

  @Override
  RaftMessage.Status status() {
    List<RaftMessage.FollowerStatus> followers = new ArrayList<>();
    for (Progress p : progress.values()) {
      followers.add(new RaftMessage.FollowerStatus(p.peer, p.matchIndex, p.nextIndex,
          s.log.lastIndex() - p.matchIndex, heardAgo(p), p.snapshot != null));
    }
    return s.status(role(), followers, commitWatch.stall());
  }

  /** For tests: the leader's view of one follower. */
  Progress progressOf(String peer) {
    return progress.get(peer);
  }
}
