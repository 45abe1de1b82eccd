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
    s.timers.cancel(ReplicaState.HEARTBEAT_TIMER);
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
    } else if (m instanceof RequestVote rv) {
      if (answerRequestVote(rv)) s.resetElectionTimer();
    } else if (m instanceof ElectionTimeout) {
      s.heardFromLeader = false;
      s.logger().info("{}: no leader heard in term {}, starting an election", s.id, s.currentTerm);
      return s.settings.preVote() ? Candidate.startPreVote(s) : Candidate.start(s);
    } else if (m instanceof Propose p) {
      p.replyTo().tell(new ProposeResponse.NotLeader(s.leaderId));
    } else if (m instanceof RaftMessage.ReadIndex r) {
      r.replyTo().tell(new RaftMessage.ReadIndexResponse.NotLeader(s.leaderId));
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
    }
    s.resetElectionTimer();
    s.heardFromLeader = true;

    // 2. Reply false if the log does not contain an entry at prevLogIndex whose term matches prevLogTerm,
    // with a hint that lets the leader skip the whole conflicting term.
    long prev = ae.prevLogIndex();
    if (prev > s.log.lastIndex()) {
      reply(ae, AppendEntriesResponse.reject(s.currentTerm, s.id, prev, s.log.lastIndex() + 1, 0));
      return;
    }
    long ourTerm = s.log.termAt(prev);
    if (ourTerm != ae.prevLogTerm()) {
      long firstOfTerm = s.log.firstIndexOfTerm(ourTerm, prev);
      reply(ae, AppendEntriesResponse.reject(s.currentTerm, s.id, prev, firstOfTerm, ourTerm));
      return;
    }

    // 3. If an existing entry conflicts with a new one (same index, different term), delete it and all that
    // follow. 4. Append any new entries not already in the log. An entry we already hold is kept as is: a
    // late or duplicated request must never cut off entries that a newer one added.
    List<LogEntry> entries = ae.entries();
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

  private void reply(AppendEntries ae, AppendEntriesResponse response) {
    s.sendAfterPersist(ae.from(), response.forRound(ae.readRound()));
  }
}
