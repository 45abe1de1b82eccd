package dev.tern.raft;

import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.GetStatus;
import dev.tern.raft.RaftMessage.PeerMessage;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.raft.RaftMessage.StorageSynced;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * What follower, candidate and leader share: the rules of Figure 2 that hold for every server. Each role is
 * its own Behavior (a subclass); a transition returns the next role's behaviour, which gets the same
 * {@link ReplicaState}.
 */
abstract class RoleBehavior extends AbstractBehavior<RaftMessage> {
  final ReplicaState s;

  RoleBehavior(ReplicaState s) {
    super(s.ctx);
    this.s = s;
    s.role = role();
  }

  abstract RaftMessage.Role role();

  /** The role-specific handling of a message whose term (if it has one) is not newer than ours. */
  abstract Behavior<RaftMessage> onRoleMessage(RaftMessage message);

  /** Called when storage reports that more writes are durable. */
  Behavior<RaftMessage> onDurable() {
    return this;
  }

  @Override
  public final Receive<RaftMessage> createReceive() {
    return newReceiveBuilder().onAnyMessage(this::handle).build();
  }

  final Behavior<RaftMessage> handle(RaftMessage message) {
    // Figure 2, "All Servers": if an RPC request or response contains term T > currentTerm, set currentTerm
    // = T and convert to follower. The message is then handled by that follower.
    // Pre-vote traffic (dissertation 9.6) speaks of a term nobody has entered yet: it changes no one's term.
    if (message instanceof RequestVote rv && rv.preVote()) {
      answerPreVote(rv);
      return this;
    }
    // With CheckQuorum, a server that hears from a leader ignores a RequestVote of a higher term (dissertation
    // 4.2.3, etcd's leader lease): a node that lost touch, or was removed, must not depose a working leader. A
    // transfer's candidate was sent by the leader itself, so it is heard (3.10).
    if (message instanceof RequestVote rv && !rv.transfer() && rv.term() > s.currentTerm && s.settings.checkQuorum()
        && inVoteLease()) {
      s.logger().debug("{}: ignoring {}'s RequestVote for term {}: a leader was heard lately", s.id, rv.from(), rv.term());
      return this;
    }
    boolean grantedPreVote = message instanceof RequestVoteResponse r && r.preVote() && r.voteGranted();
    if (message instanceof PeerMessage p && p.term() > s.currentTerm && !grantedPreVote) {
      s.logger()
          .debug("{}: term {} seen from {} (ours {}), stepping down as {}", s.id, p.term(), p.from(), s.currentTerm, role());
      s.advanceTerm(p.term());
      onLeaving();
      return stepDown().handle(message);
    }
    if (message instanceof StorageSynced) {
      s.releaseDurable();
      return onDurable();
    }
    if (message instanceof RaftMessage.SnapshotSaved saved) {
      s.onSnapshotSaved(saved);
      return onSnapshotSaved();
    }
    if (role() != RaftMessage.Role.LEADER) {
      // Leadership transfer (3.10) outside the leader: a request goes to the leader; a transfer this node started
      // as leader times out here if no new leader made itself known.
      if (message instanceof RaftMessage.TransferLeadership t) {
        t.replyTo().tell(new RaftMessage.TransferLeadershipResponse.NotLeader(s.leaderId));
        return this;
      }
      if (message instanceof RaftMessage.TransferTimeout) {
        LeadershipTransfer.timedOut(s);
        return this;
      }
    }
    if (message instanceof GetStatus g) {
      g.replyTo().tell(status());
      return this;
    }
    return onRoleMessage(message);
  }

  /** What {@link GetStatus} answers. */
  RaftMessage.Status status() {
    return s.status(role());
  }

  /** Called after our own snapshot was saved and the log compacted. */
  Behavior<RaftMessage> onSnapshotSaved() {
    return this;
  }

  /** Called just before this role gives way to another on a newer term. */
  void onLeaving() {}

  /** Becomes a follower of the current term (the follower keeps itself). */
  RoleBehavior stepDown() {
    return Follower.become(s);
  }

  /**
   * RequestVote receiver (Figure 2): reply false if term < currentTerm; grant if votedFor is null or the
   * candidate, and the candidate's log is at least as up-to-date as ours (section 5.4.1). The grant is
   * persisted before it is sent.
   *
   * @return whether the vote was granted
   */
  final boolean answerRequestVote(RequestVote rv) {
    boolean granted = false;
    if (rv.term() == s.currentTerm) {
      boolean free = s.votedFor == null || s.votedFor.equals(rv.from());
      if (free && candidateLogUpToDate(rv)) {
        if (s.votedFor == null) s.voteFor(rv.from());
        granted = true;
      }
    }
    s.logger()
        .debug("{}: vote for {} in term {}: {}", s.id, rv.from(), rv.term(), granted ? "granted" : "refused");
    s.sendAfterPersist(rv.from(), new RequestVoteResponse(s.currentTerm, s.id, granted));
    return granted;
  }

  /** Whether this role believes a leader is alive: then it refuses pre-votes. */
  abstract boolean inLeaderLease();

  /**
   * With CheckQuorum, whether this role ignores a RequestVote of a higher term (dissertation 4.2.3): a follower
   * while it hears from its leader, a leader while a majority answers it.
   */
  boolean inVoteLease() {
    return inLeaderLease();
  }

  /**
   * Pre-vote (dissertation 9.6): would we vote for this candidate in the term it names? Yes if that term is
   * ahead of ours, we have not heard from a leader lately, and its log is at least as up to date as ours.
   * Nothing is persisted and the election timer is left alone.
   */
  final void answerPreVote(RequestVote rv) {
    boolean granted = rv.term() > s.currentTerm && !inLeaderLease() && candidateLogUpToDate(rv);
    s.logger().debug("{}: pre-vote for {} in term {}: {}", s.id, rv.from(), rv.term(), granted ? "granted" : "refused");
    s.sendAfterPersist(rv.from(), new RequestVoteResponse(granted ? rv.term() : s.currentTerm, s.id, granted, true));
  }

  /**
   * Section 5.4.1: the log with the later last term is more up-to-date; with equal last terms, the longer
   * log is.
   */
  final boolean candidateLogUpToDate(RequestVote rv) {
    long ourLastTerm = s.log.lastTerm();
    if (rv.lastLogTerm() != ourLastTerm) return rv.lastLogTerm() > ourLastTerm;
    return rv.lastLogIndex() >= s.log.lastIndex();
  }

  /** Answers an AppendEntries from an older term: reply false with our term so that its sender steps down. */
  final void rejectStaleAppend(AppendEntries ae) {
    s.sendAfterPersist(ae.from(), AppendEntriesResponse.reject(s.currentTerm, s.id, ae.prevLogIndex(), 0, 0)
        .forRound(ae.readRound()));
  }

  /**
   * Late replies and stale timers: routine after any change of role. (TimeoutNow only a follower acts on, an
   * observed incarnation only a leader.) The
   * protocol's messages are records and plain enums, so their class names their kind exactly.
   */
  private static final java.util.Set<Class<?>> IGNORABLE = java.util.Set.of(
      RequestVoteResponse.class,
      AppendEntriesResponse.class,
      RaftMessage.HeartbeatTick.class,
      RaftMessage.Flush.class,
      RaftMessage.InstallSnapshotResponse.class,
      RaftMessage.SnapshotChunkRead.class,
      RaftMessage.SnapshotChunkWritten.class,
      RaftMessage.TimeoutNow.class,
      RaftMessage.ObservedIncarnation.class);

  /** Messages that mean nothing in this role (late replies, stale timers). */
  static boolean isIgnorable(RaftMessage m) {
    return IGNORABLE.contains(m.getClass());
  }
}
