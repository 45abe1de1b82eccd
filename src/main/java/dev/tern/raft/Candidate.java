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
  /** In the pre-vote phase (dissertation 9.6): asking whether it could win, still in its old term. */
  private final boolean preVote;

  private Candidate(ReplicaState s, boolean preVote) {
    super(s);
    this.preVote = preVote;
  }

  /**
   * Dissertation 9.6: before disrupting the cluster with a new term, ask the others whether they would vote
   * for us in it. Only a majority of yeses starts the real election. A node cut off from the others (or just
   * restarted) thus never raises its term, and never forces a working leader to step down when it returns.
   */
  static Behavior<RaftMessage> startPreVote(ReplicaState s) {
    s.resetElectionTimer();
    s.logger().debug("{}: pre-vote for term {}", s.id, s.currentTerm + 1);
    RequestVote rv = new RequestVote(s.currentTerm + 1, s.id, s.log.lastIndex(), s.log.lastTerm(), true);
    sendToVoters(s, rv);
    Candidate c = new Candidate(s, true);
    c.votes.add(s.id);
    return c.wonOrStay();
  }

  /** Starts an election: a new term, a vote for itself, RequestVote to all peers. */
  static Behavior<RaftMessage> start(ReplicaState s) {
    return start(s, false);
  }

  /**
   * Starts an election; with {@code transfer} because the leader sent TimeoutNow (dissertation 3.10), which the
   * RequestVotes say, so that voters still hearing from that leader do not ignore them.
   */
  static Behavior<RaftMessage> start(ReplicaState s, boolean transfer) {
    // Only a follower or a candidate starts an election, so no heartbeat timer runs (Leader.onLeaving stops it).
    s.advanceTerm(s.currentTerm + 1);
    s.voteFor(s.id);
    s.resetElectionTimer();
    s.logger().info("{}: candidate in term {}", s.id, s.currentTerm);
    s.observer.electionStarted(s.currentTerm);
    RequestVote rv = new RequestVote(s.currentTerm, s.id, s.log.lastIndex(), s.log.lastTerm(), false, transfer);
    // Held until the new term and the self-vote are durable: a node that crashed before persisting them
    // could otherwise vote again in this term after restart.
    sendToVoters(s, rv);
    Candidate c = new Candidate(s, false);
    return c.onDurable();
  }

  /** Only the voters of the configuration in force decide an election (dissertation 4.1, 4.2.1). */
  private static void sendToVoters(ReplicaState s, RequestVote rv) {
    for (Configuration.Server server : s.configuration().servers()) {
      if (server.voter() && !server.id().equals(s.id)) s.sendAfterPersist(server.id(), rv);
    }
  }

  @Override
  RaftMessage.Role role() {
    return RaftMessage.Role.CANDIDATE;
  }

  @Override
  boolean inLeaderLease() {
    return false;
  }

  @Override
  Behavior<RaftMessage> onDurable() {
    // The candidate's own vote counts once it is on disk.
    if (!preVote && s.allDurable()) votes.add(s.id);
    return wonOrStay();
  }

  @Override
  Behavior<RaftMessage> onRoleMessage(RaftMessage m) {
    if (m instanceof RequestVoteResponse r) {
      boolean counts = preVote
          ? r.preVote() && r.voteGranted() && r.term() == s.currentTerm + 1
          : !r.preVote() && r.voteGranted() && r.term() == s.currentTerm;
      if (counts) {
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
    } else if (m instanceof RaftMessage.InstallSnapshot is) {
      if (is.term() < s.currentTerm) {
        s.sendAfterPersist(is.from(), new RaftMessage.InstallSnapshotResponse(s.currentTerm, s.id, is.lastIncludedIndex(), 0, false));
      } else {
        return Follower.become(s).handle(is); // the leader of this term: follow it
      }
    } else if (m instanceof RequestVote rv) {
      // A real candidate voted for itself, so this refuses; a pre-candidate may grant, and then follows.
      if (answerRequestVote(rv) && preVote) return Follower.become(s);
    } else if (m instanceof ElectionTimeout) {
      // A pre-vote that fails repeats every election timeout while peers are unreachable (start-up, a
      // partition): only a real election's timeout is worth a line at INFO.
      if (preVote) {
        s.logger().debug("{}: pre-vote in term {} timed out with {} votes", s.id, s.currentTerm + 1, votes.size());
      } else {
        s.logger().info("{}: election in term {} timed out with {} votes", s.id, s.currentTerm, votes.size());
      }
      if (!s.isVoter()) return Follower.become(s); // no longer a voter (a snapshot removed it): it cannot win
      return s.settings.preVote() ? startPreVote(s) : start(s);
    } else if (m instanceof Propose p) {
      p.replyTo().tell(new ProposeResponse.NotLeader(null, p.requestId()));
    } else if (m instanceof RaftMessage.ReadIndex r) {
      r.replyTo().tell(new RaftMessage.ReadIndexResponse.NotLeader(null, r.requestId()));
    } else if (m instanceof RaftMessage.ChangeMembership c) {
      c.replyTo().tell(new RaftMessage.ChangeMembershipResponse.NotLeader(null));
    } else if (!isIgnorable(m)) {
      s.logger().warn("{}: candidate ignores unexpected {}", s.id, m);
    }
    return this;
  }

  /**
   * A majority of the voters in the configuration in force (its latest, dissertation 4.1) elects; a vote from a
   * server that is not one of them does not count.
   */
  private Behavior<RaftMessage> wonOrStay() {
    Configuration config = s.configuration();
    int count = 0;
    for (String voter : votes) if (config.isVoter(voter)) count++;
    if (!config.isQuorum(count)) return this;
    return preVote ? start(s) : Leader.start(s, count);
  }
}
