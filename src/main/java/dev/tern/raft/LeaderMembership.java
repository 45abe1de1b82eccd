package dev.tern.raft;

import dev.tern.raft.RaftMessage.Change;
import dev.tern.raft.RaftMessage.ChangeMembership;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse.Failed;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse.Reason;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The leader's side of membership changes (dissertation chapter 4), and the majorities they define. Single-server
 * changes (4.1): one at a time, each appended only once the previous one is committed and once this leader has
 * committed an entry of its own term (the fix Ongaro posted to raft-dev in 2015: without it, a change appended by a
 * new leader could overlap one a deposed leader left uncommitted, and two disjoint majorities could decide). A new
 * server joins as a learner (4.2.1) and is made a voter by a second change once it has caught up: a round of
 * replication up to the leader's last index at the round's start that ends within an election timeout. The
 * configuration is in force as soon as it is in the log, so a removed server stops counting at once.
 *
 * <p>Majorities are precomputed here on every change of configuration (rare), so that the commit rule, run on
 * every acknowledgement, only reads the voters' matchIndex into a reused array.
 */
final class LeaderMembership {
  private final ReplicaState s;
  /** The leader's progress per server it replicates to: the configuration's others, plus removed ones until committed. */
  private final Map<String, Progress> progress;
  /** The leader tells the entries it appends here to its flush and commit watch. */
  private final Runnable appended;
  /** Heartbeat ticks within which a learner's last catch-up round must end for it to be promoted. */
  private final long roundTicks;

  /** The voters other than the leader, and whether the leader itself votes (it does not once it removed itself). */
  private Progress[] voters = new Progress[0];
  private boolean selfVotes;
  /** Scratch for the commit rule: one slot per voter. */
  private long[] match = new long[1];

  private record Pending(long index, ChangeMembership request) {}

  /**
   * The change requested by an operator, appended and waiting to commit (null = none). While there is one it is the
   * latest configuration entry, past commitIndex, so {@link #notNow} refuses the next change without looking here.
   */
  private Pending pending;

  LeaderMembership(ReplicaState s, Map<String, Progress> progress, Runnable appended) {
    this.s = s;
    this.progress = progress;
    this.appended = appended;
    long tick = Math.max(1, s.settings.heartbeatInterval().toMillis());
    this.roundTicks = Math.max(1, s.settings.electionTimeoutMin().toMillis() / tick);
  }

  /** Builds the leader's view of the configuration in force: progress for new servers, voters, learners' rounds. */
  void update(long ticks) {
    Configuration config = s.configuration();
    List<Progress> v = new ArrayList<>();
    for (Configuration.Server server : config.servers()) {
      if (server.id().equals(s.id)) continue;
      Progress p = progress.get(server.id());
      if (p == null) {
        p = new Progress(server.id(), s.log.lastIndex() + 1);
        progress.put(server.id(), p);
      }
      if (server.voter()) {
        v.add(p);
      } else if (p.catchUpTarget == 0) {
        p.catchUpTarget = s.log.lastIndex(); // the first round: everything up to now (4.2.1)
        p.catchUpStart = ticks;
      }
    }
    voters = v.toArray(new Progress[0]);
    selfVotes = config.isVoter(s.id);
    match = new long[voters.length + 1];
  }

  /** The voters' count in the configuration in force. */
  int voterCount() {
    return voters.length + (selfVotes ? 1 : 0);
  }

  /** Whether the peer {@code id} (a server other than the leader) votes in the configuration in force. */
  boolean isVoter(String id) {
    for (Progress p : voters) if (p.peer.equals(id)) return true;
    return false;
  }

  /**
   * The highest index held by a majority of the voters in force (Figure 2's commit rule over the configuration's
   * voters, dissertation 4.1); the leader counts itself, if it votes, only up to its durable index. 0 with no voter.
   */
  long majorityMatch() {
    int n = 0;
    for (Progress p : voters) match[n++] = p.matchIndex;
    if (selfVotes) match[n++] = s.durableIndex;
    // With no voter at all (n = 0) this reads match[0] of the one-slot array update() made, never written: 0.
    Arrays.sort(match, 0, n);
    // With the values sorted ascending, this one is held by a majority (itself and every one above it).
    return match[(n - 1) / 2];
  }

  /** Whether a majority of the voters in force answered a request of ReadIndex round {@code round} (6.4). */
  boolean confirmed(long round) {
    int acks = selfVotes ? 1 : 0;
    for (Progress p : voters) if (p.ackedReadRound >= round) acks++;
    return acks * 2 > voterCount();
  }

  /** The leader alone is the majority: it answers reads without a round. */
  boolean alone() {
    return voters.length == 0 && selfVotes;
  }

  /** Whether a change may be appended now: none uncommitted, and an entry of this term committed (the 2015 fix). */
  private String notNow() {
    if (s.configurations.latestIndex() > s.commitIndex) {
      return "the change at index " + s.configurations.latestIndex() + " is not committed yet; retry";
    }
    if (s.log.termAt(s.commitIndex) != s.currentTerm) {
      return "the leader has not yet committed an entry of its term " + s.currentTerm + "; retry";
    }
    return null;
  }

  /** An operator's change: appended (answered on commit), or answered at once. */
  void request(ChangeMembership c, long ticks) {
    Configuration current = s.configuration();
    Change change = c.change();
    Configuration next;
    String what;
    if (change instanceof Change.AddLearner add) {
      Configuration.Server existing = current.get(add.id());
      if (existing != null) {
        String busy = notNow();
        if (existing.sameAddresses(add.server()) && busy == null) { // already there: adding it again changes nothing
          c.replyTo().tell(new ChangeMembershipResponse.Done(current, s.configurations.latestIndex()));
        } else if (existing.sameAddresses(add.server())) {
          c.replyTo().tell(new Failed(Reason.IN_PROGRESS, busy));
        } else {
          c.replyTo().tell(new Failed(Reason.ALREADY_MEMBER, add.id() + " is already a member at " + existing.host()
              + ":" + existing.arteryPort() + "/" + existing.httpPort() + "; remove it first to change its addresses"));
        }
        return;
      }
      next = current.with(add.server());
      what = "add learner ";
    } else {
      String id = change.id();
      if (!current.contains(id)) {
        c.replyTo().tell(new Failed(Reason.UNKNOWN_MEMBER, id + " is not a member of " + current));
        return;
      }
      if (current.isVoter(id) && current.voterCount() == 1) {
        c.replyTo().tell(new Failed(Reason.LAST_VOTER, "removing " + id + " would leave no voter"));
        return;
      }
      next = current.without(id);
      what = "remove ";
    }
    String busy = notNow();
    if (busy != null) {
      c.replyTo().tell(new Failed(Reason.IN_PROGRESS, busy));
      return;
    }
    pending = new Pending(append(next, ticks, what, change.id()), c);
  }

  /**
   * Publishes the incarnation of server {@code id} (see {@link Configuration.Server}) if the configuration has none
   * for it yet: a configuration change like any other (one at a time, 4.1), that changes no majority. Until it is
   * published, nothing tells the server's first start from a start on a lost disk; once it is, the transport of every
   * node holding the entry ignores the server should it come back with another incarnation. An incarnation
   * already published is never replaced: a server that lost its state must be removed and added again.
   */
  void publish(String id, long incarnation, long ticks) {
    Configuration current = s.configuration();
    Configuration.Server server = current.get(id);
    if (server == null || server.published() || incarnation == Configuration.Server.UNPUBLISHED || notNow() != null) {
      return; // the transport reports it again with the next message
    }
    append(current.withIncarnation(id, incarnation), ticks,
        "publish incarnation " + Long.toHexString(incarnation) + " of ", id);
  }

  private long append(Configuration next, long ticks, String what, String id) {
    LogEntry entry = LogEntry.config(s.log.lastIndex() + 1, s.currentTerm, next);
    s.appendConfiguration(entry); // in force at once (4.1)
    s.logger().info("{}: configuration change at index {}: {}{} -> {}", s.id, entry.index(), what, id, next);
    update(ticks);
    appended.run();
    return entry.index();
  }

  /**
   * Called at every heartbeat tick: a learner whose catch-up round is done is promoted if the round ended within an
   * election timeout, or starts another round (4.2.1). The leader keeps trying for as long as it is a learner.
   */
  void onTick(long ticks) {
    Configuration config = s.configuration();
    for (Configuration.Server server : config.servers()) {
      if (server.voter()) continue;
      Progress p = progress.get(server.id()); // null for the leader itself, which has no progress
      if (p == null || p.matchIndex < p.catchUpTarget) continue;
      if (ticks - p.catchUpStart <= roundTicks && notNow() == null) {
        append(config.promote(server.id()), ticks, "promote learner ", server.id());
        return; // one change at a time
      }
      p.catchUpTarget = Math.max(s.log.lastIndex(), p.matchIndex);
      p.catchUpStart = ticks;
    }
  }

  /**
   * commitIndex moved: answers the change it committed and forgets the servers it removed. Returns whether the
   * leader must step down: it removed itself and that is now committed (4.2.2).
   */
  boolean onCommit() {
    if (s.configurations.latestIndex() > s.commitIndex) return false;
    if (pending != null) {
      pending.request().replyTo().tell(new ChangeMembershipResponse.Done(s.configurations.at(pending.index()), pending.index()));
      pending = null;
    }
    Configuration config = s.configuration();
    if (progress.size() > config.servers().size() - (config.contains(s.id) ? 1 : 0)) {
      for (Iterator<String> it = progress.keySet().iterator(); it.hasNext(); ) {
        if (!config.contains(it.next())) it.remove();
      }
    }
    return !config.isVoter(s.id);
  }

  /** Deposed: a change not known to be committed may or may not commit under the next leader. */
  void onLeaving() {
    if (pending != null) {
      pending.request().replyTo().tell(new Failed(Reason.LEADERSHIP_LOST, "leadership lost before the change at index "
          + pending.index() + " committed; it may still commit: check the members before retrying"));
      pending = null;
    }
  }
}
