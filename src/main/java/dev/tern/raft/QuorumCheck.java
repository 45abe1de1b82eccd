package dev.tern.raft;

import java.time.Duration;
import java.util.Collection;

/**
 * CheckQuorum (dissertation 6.2, etcd's checkQuorum): a leader that has not heard from a majority of the voters,
 * itself included, within an election timeout steps down. Without it a leader cut off from the majority stays
 * leader in its term forever: its reads cannot be confirmed and its writes cannot commit, yet it looks alive to a
 * load balancer.
 *
 * <p>It adds no work per request: it counts in the leader's heartbeat ticks and reads {@link Progress#lastHeardTick},
 * which every AppendEntries or InstallSnapshot reply already stamps. The window is election-timeout-max rounded up to
 * whole ticks: by then the followers of the majority side have all started electing a new leader. Not shorter,
 * because a follower's replies wait for its fsync (Figure 2: persist before responding): with one follower down and
 * the other writing a multi-megabyte entry on a busy disk, a window of election-timeout-min (200 ms in the cluster
 * tests) made the leader step down again and again while it was merely slow (LargeValueTest).
 */
final class QuorumCheck {
  private final long tickMillis;
  private final long windowTicks;
  /** The tick at which the current window began; replies stamped at or after it count for it. */
  private long windowStart;

  QuorumCheck(Duration heartbeatInterval, Duration electionTimeoutMax) {
    this.tickMillis = Math.max(1, heartbeatInterval.toMillis());
    this.windowTicks = Math.max(1, (electionTimeoutMax.toMillis() + tickMillis - 1) / tickMillis);
  }

  /**
   * Called at each heartbeat tick, after the tick was counted: at the end of a window, says whether a majority
   * answered during it. Returns null while the leader keeps its quorum (or the window is not over), else why not.
   */
  String onTick(long tick, Collection<Progress> followers, ReplicaState s) {
    if (tick - windowStart < windowTicks) return null;
    Configuration voters = s.configurations.latest();
    int heard = heardSince(windowStart, followers, voters, s.id);
    long span = tick - windowStart;
    windowStart = tick;
    if (voters.isQuorum(heard)) return null;
    return "no quorum: heard from " + heard + " of " + voters.voterCount() + " voters (itself included) in the last "
        + span * tickMillis + " ms";
  }

  /** Whether a majority, itself included, answered within the last window: the leader's lease on its voters. */
  boolean inLease(long tick, Collection<Progress> followers, ReplicaState s) {
    Configuration voters = s.configurations.latest();
    return voters.isQuorum(heardSince(Math.max(0, tick - windowTicks), followers, voters, s.id));
  }

  /** Voters of the configuration in force that answered since {@code tick}, the leader itself included: learners
   * are replicated to but never count (dissertation 4.2.1). */
  private static int heardSince(long tick, Collection<Progress> followers, Configuration voters, String self) {
    int heard = voters.isVoter(self) ? 1 : 0;
    for (Progress p : followers) if (p.lastHeardTick >= tick && voters.isVoter(p.peer)) heard++;
    return heard;
  }
}
