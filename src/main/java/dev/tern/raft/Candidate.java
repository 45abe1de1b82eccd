package dev.tern.raft;

import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.ElectionTimeout;
import dev.tern.raft.RaftMessage.Propose;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.Behavior;

/**
 * Candidate (Figure 2, "Candidates"; section 5.2): increments its term, votes for itself, asks every peer
 * for a vote in parallel; wins with a majority, yields to a leader of its term, and retries on timeout.
 */
final class Candidate extends RoleBehavior {
  private final Set<String> votes = new HashSet<>();

  private Candidate(ReplicaState s) {
    super(s);
  }

  /** Starts an election: a new term, a vote for itself, RequestVote to all peers. */
  static Behavior<RaftMessage> start(ReplicaState s) {
    s.timers.cancel(ReplicaState.HEARTBEAT_TIMER);
    s.advanceTerm(s.currentTerm + 1);
    s.voteFor(s.id);
    s.resetElectionTimer();
    s.logger().info("{}: candidate in term {}", s.id, s.currentTerm);
    RequestVote rv = new RequestVote(s.currentTerm, s.id, s.log.lastIndex(), s.log.lastTerm());
    // Held until the new term and the self-vote are durable: a node that crashed before persisting them
    // could otherwise vote again in this term after restart.
    for (String peer : s.peers) s.sendAfterPersist(peer, rv);
    Candidate c = new Candidate(s);
    return c.onDurable();
  }

  @Override
  RaftMessage.Role role() {
    return RaftMessage.Role.CANDIDATE;
  }

  @Override
  Behavior<RaftMessage> onDurable() {
    // The candidate's own vote counts once it is on disk.
    if (s.allDurable()) votes.add(s.id);
    return wonOrStay();
  }

  @Override
  Behavior<RaftMessage> onRoleMessage(RaftMessage m) {
    if (m instanceof RequestVoteResponse r) {
      if (r.term() == s.currentTerm && r.voteGranted()) {
        votes.add(r.from());
        return wonOrStay();
      }
    } else if (m instanceof AppendEntries ae) {
      if (ae.term() < s.currentTerm) {
        rejectStaleAppend(ae);
      } else {
        // Another server won this term's election: recognise it and handle its request as a follower.
        return Follower.become(s).handle(ae);
      }
    } else if (m instanceof RequestVote rv) {
      answerRequestVote(rv); // same term: we voted for ourselves, so this refuses
    } else if (m instanceof ElectionTimeout) {
      s.logger().info("{}: election in term {} timed out with {} votes", s.id, s.currentTerm, votes.size());
      return start(s);
    } else if (m instanceof Propose p) {
      p.replyTo().tell(new ProposeResponse.NotLeader(null));
    } else if (m instanceof RaftMessage.ReadIndex r) {
      r.replyTo().tell(new RaftMessage.ReadIndexResponse.NotLeader(null));
    } else if (!isIgnorable(m)) {
      s.logger().warn("{}: candidate ignores unexpected {}", s.id, m);
    }
    return this;
  }

  private Behavior<RaftMessage> wonOrStay() {
    if (s.isMajority(votes.size())) return Leader.start(s, votes.size());
    return this;
  }
}
