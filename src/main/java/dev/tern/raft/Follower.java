package dev.tern.raft;

import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.ElectionTimeout;
import dev.tern.raft.RaftMessage.Propose;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.RequestVote;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;

/**
 * Follower (Figure 2, "Followers"): answers RPCs from candidates and leaders; becomes a candidate when its
 * election timer fires. The timer is reset only by a valid AppendEntries from the current leader or by
 * granting a vote (section 5.2), never by a rejected or stale message.
 */
final class Follower extends RoleBehavior {

  private Follower(ReplicaState s) {
    super(s);
  }

  static Follower become(ReplicaState s) {
    // (No heartbeat timer to stop: a leader stops it in onLeaving, on every way out of leadership.)
    // A leader stepping down may hold proposals it appended but had not yet written: write them now so the
    // in-memory log never runs ahead of storage outside the leader's own batching.
    s.persistAppended();
    s.resetElectionTimer();
    return new Follower(s);
  }

  @Override
  RaftMessage.Role role() {
    return RaftMessage.Role.FOLLOWER;
  }

  @Override
  boolean inLeaderLease() {
    return s.heardFromLeader;
  }

  @Override
  RoleBehavior stepDown() {
    return this; // already a follower; advanceTerm has cleared the vote and leader
  }

  @Override
  Behavior<RaftMessage> onRoleMessage(RaftMessage m) {
    if (m instanceof AppendEntries ae) {
      onAppendEntries(ae);
    } else if (m instanceof RaftMessage.InstallSnapshot is) {
      onInstallSnapshot(is);
    } else if (m instanceof RaftMessage.SnapshotChunkWritten w) {
      onChunkWritten(w);
    } else if (m instanceof RequestVote rv) {
      if (answerRequestVote(rv)) s.resetElectionTimer();
    } else if (m instanceof RaftMessage.TimeoutNow t) {
      // Leadership transfer (dissertation 3.10): the leader of our term brought us up to date and tells us to run
      // now, without pre-vote (its own heartbeats would make the others refuse that).
      // A learner or a removed server never campaigns (dissertation 4.2.1, 4.2.3), even when told to.
      if (t.term() == s.currentTerm && s.isVoter()) {
        s.logger().info("{}: {} hands over leadership of term {}: starting an election at once", s.id, t.from(), t.term());
        return Candidate.start(s, true);
      }
    } else if (m instanceof ElectionTimeout) {
      s.heardFromLeader = false;
      if (!s.isVoter()) {
        // A learner, a removed server or one that joins with no configuration yet never starts an election
        // (dissertation 4.2.1, 4.2.3): it waits to hear from a leader.
        s.logger().debug("{}: no leader heard in term {}; not a voter in {}, so not campaigning", s.id, s.currentTerm,
            s.configuration());
        s.resetElectionTimer();
        return this;
      }
      s.logger().info("{}: no leader heard in term {}, starting an election", s.id, s.currentTerm);
      return s.settings.preVote() ? Candidate.startPreVote(s) : Candidate.start(s);
    } else if (m instanceof Propose p) {
      p.replyTo().tell(new ProposeResponse.NotLeader(s.leaderId, p.requestId()));
    } else if (m instanceof RaftMessage.ReadIndex r) {
      r.replyTo().tell(new RaftMessage.ReadIndexResponse.NotLeader(s.leaderId, r.requestId()));
    } else if (m instanceof RaftMessage.ChangeMembership c) {
      c.replyTo().tell(new RaftMessage.ChangeMembershipResponse.NotLeader(s.leaderId));
    } else if (!isIgnorable(m)) {
      s.logger().warn("{}: follower ignores unexpected {}", s.id, m);
    }
    return this;
  }

  /** AppendEntries receiver implementation, Figure 2 steps 1-5. */
  private void onAppendEntries(AppendEntries ae) {
    // 1. Reply false if term < currentTerm.
    if (ae.term() < s.currentTerm) {
      rejectStaleAppend(ae);
      return;
    }
    // A valid AppendEntries from the leader of our term.
    if (s.leaderId == null) {
      s.leaderId = ae.from();
      s.logger().info("{}: following leader {} in term {}", s.id, ae.from(), s.currentTerm);
      leaderLearned();
    }
    s.resetElectionTimer();
    s.heardFromLeader = true;

    // Entries up to our snapshot are committed, so the leader of our term holds them too (Leader
    // Completeness): the request matches there, and only what follows our snapshot needs checking.
    long prev = ae.prevLogIndex();
    List<LogEntry> entries = ae.entries();
    if (prev < s.log.baseIndex()) {
      if (ae.lastIndex() <= s.log.baseIndex()) {
        reply(ae, AppendEntriesResponse.success(s.currentTerm, s.id, ae.lastIndex()));
        return;
      }
      entries = entries.subList((int) (s.log.baseIndex() - prev), entries.size());
      prev = s.log.baseIndex();
    }

    // 2. Reply false if the log does not contain an entry at prevLogIndex whose term matches prevLogTerm,
    // with a hint that lets the leader skip the whole conflicting term.
    if (prev > s.log.lastIndex()) {
      reply(ae, AppendEntriesResponse.reject(s.currentTerm, s.id, prev, s.log.lastIndex() + 1, 0));
      return;
    }
    long ourTerm = s.log.termAt(prev);
    if (prev == ae.prevLogIndex() && ourTerm != ae.prevLogTerm()) {
      long firstOfTerm = s.log.firstIndexOfTerm(ourTerm, prev);
      reply(ae, AppendEntriesResponse.reject(s.currentTerm, s.id, prev, firstOfTerm, ourTerm));
      return;
    }

    // 3. If an existing entry conflicts with a new one (same index, different term), delete it and all that
    // follow. 4. Append any new entries not already in the log. An entry we already hold is kept as is: a
    // late or duplicated request must never cut off entries that a newer one added.
    int i = 0;
    long truncateFrom = 0;
    for (; i < entries.size(); i++) {
      LogEntry e = entries.get(i);
      if (e.index() > s.log.lastIndex()) break;
      if (s.log.termAt(e.index()) != e.term()) {
        truncateFrom = e.index();
        break;
      }
    }
    s.writeLog(truncateFrom, entries.subList(i, entries.size()));

    // 5. If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new entry). Only
    // the entries this request proved to match the leader's log may be committed.
    s.commitTo(Math.min(ae.leaderCommit(), ae.lastIndex()));
    reply(ae, AppendEntriesResponse.success(s.currentTerm, s.id, ae.lastIndex()));
  }

  /**
   * InstallSnapshot receiver (Figure 13). Step 1 (an older term) is handled like AppendEntries'. A snapshot
   * that covers nothing beyond what we have committed is answered as installed at once. Otherwise each piece
   * goes to storage, which keeps the pieces in a file of their own; the reply goes out once it is stored.
   */
  private void onInstallSnapshot(RaftMessage.InstallSnapshot is) {
    if (is.term() < s.currentTerm) {
      s.sendAfterPersist(is.from(), new RaftMessage.InstallSnapshotResponse(s.currentTerm, s.id, is.lastIncludedIndex(), 0, false));
      return;
    }
    if (s.leaderId == null) {
      s.leaderId = is.from();
      s.logger().info("{}: following leader {} in term {}", s.id, is.from(), s.currentTerm);
      leaderLearned();
    }
    s.resetElectionTimer();
    s.heardFromLeader = true;
    if (is.lastIncludedIndex() <= s.commitIndex) {
      // Everything it covers is committed here already, so our log matches the leader's up to its index.
      s.sendAfterPersist(is.from(), new RaftMessage.InstallSnapshotResponse(
          s.currentTerm, s.id, is.lastIncludedIndex(), is.offset() + is.data().length, true));
      return;
    }
    var self = s.ctx.getSelf();
    String leader = is.from();
    long term = is.term();
    SnapshotMeta meta = is.meta();
    s.storage.writeSnapshotChunk(meta, is.offset(), is.data(), is.done(),
        written -> self.tell(new RaftMessage.SnapshotChunkWritten(leader, term, meta, written)));
  }

  /** A piece is stored; with the last one the snapshot is durable and replaces our state (steps 5-8). */
  private void onChunkWritten(RaftMessage.SnapshotChunkWritten w) {
    RaftStorage.ChunkWritten written = w.written();
    if (written.completed() != null) s.installSnapshot(written.completed());
    if (w.term() != s.currentTerm) return; // the leader that sent it is gone; the next one starts its own
    s.sendAfterPersist(w.leader(), new RaftMessage.InstallSnapshotResponse(
        s.currentTerm, s.id, w.meta().lastIncludedIndex(), written.nextOffset(), written.completed() != null));
  }

  /** A leader is known again: a lost quorum is behind us, and a transfer this node started may be done. */
  private void leaderLearned() {
    s.observer.leaderChanged(s.currentTerm, s.leaderId);
    s.quorumLost = null;
    LeadershipTransfer.leaderKnown(s);
  }

  private void reply(AppendEntries ae, AppendEntriesResponse response) {
    s.sendAfterPersist(ae.from(), response.forRound(ae.readRound()));
  }
}
