package dev.tern.raft;

import dev.tern.raft.RaftMessage.TimeoutNow;
import dev.tern.raft.RaftMessage.TransferLeadership;
import dev.tern.raft.RaftMessage.TransferLeadershipResponse;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Leadership transfer (dissertation 3.10), as etcd builds it. The leader stops accepting proposals (they are
 * answered NotLeader, so the proposer asks again later and nothing is lost), brings the target's log up to its
 * own last index with ordinary AppendEntries, then sends it {@link TimeoutNow}. The target starts an election at
 * once, skipping pre-vote; its RequestVote is marked as a transfer, so voters that still hear from the old leader
 * consider it anyway. Its higher term makes the old leader step down; the request is answered once this node
 * learns who leads the new term. If that does not happen within an election timeout (election-timeout-max), the
 * transfer is given up: a node still leading accepts proposals again, and the request is answered Failed.
 *
 * <p>The transfer lives in {@link ReplicaState#transfer}, not in the leader, because it outlasts the leader's role.
 */
final class LeadershipTransfer {
  static final Object TIMER = "transfer";

  /** The voter asked to take over. */
  final String target;
  /** The term of the leader that started it. */
  final long term;
  private final ActorRef<TransferLeadershipResponse> replyTo;
  /** TimeoutNow went out: the target should be campaigning. */
  private boolean timeoutNowSent;

  private LeadershipTransfer(String target, long term, ActorRef<TransferLeadershipResponse> replyTo) {
    this.target = target;
    this.term = term;
    this.replyTo = replyTo;
  }

  /**
   * The leader got {@code request}: starts a transfer (in {@link ReplicaState#transfer}, with its timer) or answers
   * at once why not. The target is the one named, or the voter with the highest matchIndex (the one heard from
   * last among equals), which needs the least catching up.
   */
  static void begin(ReplicaState s, TransferLeadership request, Map<String, Progress> progress) {
    ActorRef<TransferLeadershipResponse> replyTo = request.replyTo();
    if (s.transfer != null) {
      replyTo.tell(new TransferLeadershipResponse.Refused(
          "a transfer to " + s.transfer.target + " is already in progress"));
      return;
    }
    String target = request.target();
    if (target != null && target.equals(s.id)) {
      replyTo.tell(new TransferLeadershipResponse.Transferred(s.id, s.currentTerm)); // it leads already
      return;
    }
    // Only a voter of the configuration in force can take over: a learner would not campaign (4.2.1).
    Configuration voters = s.configurations.latest();
    if (target != null && !(progress.containsKey(target) && voters.isVoter(target))) {
      replyTo.tell(new TransferLeadershipResponse.UnknownTarget(target));
      return;
    }
    if (target == null) target = mostUpToDate(progress, voters);
    if (target == null) {
      replyTo.tell(new TransferLeadershipResponse.Refused("there is no other voter to hand leadership to"));
      return;
    }
    s.transfer = new LeadershipTransfer(target, s.currentTerm, replyTo);
    s.timers.startSingleTimer(TIMER, RaftMessage.TransferTimeout.INSTANCE, s.settings.electionTimeoutMax());
    Progress p = progress.get(target);
    s.logger().info("{}: transferring leadership of term {} to {} (its log is at {} of {}); not accepting proposals"
        + " meanwhile", s.id, s.currentTerm, target, p.matchIndex, s.log.lastIndex());
  }

  private static String mostUpToDate(Map<String, Progress> progress, Configuration voters) {
    Progress best = null;
    for (Progress p : progress.values()) {
      if (!voters.isVoter(p.peer)) continue;
      if (best == null || p.matchIndex > best.matchIndex
          || p.matchIndex == best.matchIndex && p.lastHeardTick > best.lastHeardTick) {
        best = p;
      }
    }
    return best == null ? null : best.peer;
  }

  /**
   * The leader learned more of the target's log: once it holds everything the leader has, tell it to run. No
   * entry can be added meanwhile (proposals are refused), so "everything" stays put.
   */
  void onProgress(ReplicaState s, Progress p) {
    if (timeoutNowSent || !p.peer.equals(target) || p.matchIndex < s.log.lastIndex()) return;
    timeoutNowSent = true;
    s.logger().info("{}: {} holds the whole log ({}): sending TimeoutNow", s.id, target, p.matchIndex);
    s.sendNow(target, new TimeoutNow(s.currentTerm, s.id));
  }

  /**
   * The transfer's time is up ({@link RaftMessage.TransferTimeout}). The leader that started it, if this node still
   * leads, takes proposals again; any other role only answers.
   */
  static void timedOut(ReplicaState s) {
    LeadershipTransfer t = s.transfer;
    if (t == null) return; // answered already: a stale timer
    s.transfer = null;
    String why = s.role == RaftMessage.Role.LEADER
        ? t.target + " did not take over within " + s.settings.electionTimeoutMax().toMillis()
            + " ms; accepting proposals again in term " + s.currentTerm
        : "this node stepped down but learned of no new leader within "
            + s.settings.electionTimeoutMax().toMillis() + " ms";
    s.logger().warn("{}: leadership transfer to {} failed: {}", s.id, t.target, why);
    t.replyTo.tell(new TransferLeadershipResponse.Failed(why));
  }

  /**
   * This node learned who leads {@code s.currentTerm}: a transfer it started is over. That term is always later than
   * the transfer's: this node led the transfer's term itself, and a term has one leader.
   */
  static void leaderKnown(ReplicaState s) {
    LeadershipTransfer t = s.transfer;
    if (t == null) return;
    s.transfer = null;
    s.timers.cancel(TIMER);
    s.logger().info("{}: leadership transferred: {} leads term {}", s.id, s.leaderId, s.currentTerm);
    t.replyTo.tell(new TransferLeadershipResponse.Transferred(s.leaderId, s.currentTerm));
  }
}
