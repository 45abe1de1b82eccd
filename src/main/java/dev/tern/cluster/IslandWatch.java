package dev.tern.cluster;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Down;

/**
 * Keeps a node from staying in a Pekko cluster that cannot serve Raft. Pekko clusters never merge: when a
 * majority of the nodes (the first seed among them) are killed and restart together, the first seed can form a
 * new Pekko cluster and the others join it, while the survivors stay in the old one, still waiting for the old
 * incarnations (no downing provider removes them). Raft messages cannot cross between the two, so the survivors
 * are cut off for good (found by the fault test: docs/testing.md).
 *
 * <p>So: once this node's Pekko cluster has had fewer than a majority of the configured members up and
 * reachable for {@code after}, the node downs itself out of it; {@link TernNode#superviseCurrent} then starts a new
 * ActorSystem, with the same Raft state, which joins through the seed nodes again, where the majority is. A
 * node cut off by a real network partition does the same every {@code after}: harmless, as its Raft state is
 * kept, and it rejoins once the network heals.
 */
final class IslandWatch {
  private IslandWatch() {}

  enum Tick {
    INSTANCE
  }

  static Behavior<Tick> create(Members members, Duration after) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(1));
      Cluster cluster = Cluster.get(ctx.getSystem());
      long[] below = {0}; // since when (nanoTime) a majority was missing; 0 = it is not
      return Behaviors.receiveMessage(tick -> {
        ClusterEvent.CurrentClusterState state = cluster.state();
        java.util.List<Address> upAndReachable = new java.util.ArrayList<>();
        for (Member m : state.getMembers()) {
          boolean up = m.status() == MemberStatus.up() || m.status() == MemberStatus.weaklyUp();
          if (up && !state.getUnreachable().contains(m)) upAndReachable.add(m.address());
        }
        Set<String> reachable = memberIds(members, upAndReachable);
        MemberStatus self = cluster.selfMember().status();
        boolean selfUp = self == MemberStatus.up() || self == MemberStatus.weaklyUp();
        if (!selfUp || majority(members, reachable)) {
          below[0] = 0; // not a member yet (Pekko's join retries handle that), or fine
        } else if (below[0] == 0) {
          below[0] = System.nanoTime();
        } else if (System.nanoTime() - below[0] > after.toNanos()) {
          ctx.getLog().warn("only {} of the {} members have been up and reachable in this node's Pekko cluster for"
              + " {} s: leaving it, to join the cluster where the majority is", reachable, members.all().size(),
              after.toSeconds());
          // Down, not Leave: leaving needs the cluster's convergence, which the unreachable old incarnations block.
          // A node that downs itself shuts its ActorSystem down at once.
          cluster.manager().tell(new Down(cluster.selfMember().address()));
          below[0] = 0; // the ActorSystem stops now; should it not, judge again from here
        }
        return Behaviors.same();
      });
    })).narrow();
  }

  /** The ids of the configured members at these Pekko addresses (other addresses are not Tern members). */
  static Set<String> memberIds(Members configured, Iterable<Address> addresses) {
    Set<String> ids = new TreeSet<>();
    for (Address a : addresses) {
      configured.byArteryAddress(a.getHost().orElse(""), (Integer) a.getPort().orElse(-1)).ifPresent(c -> ids.add(c.id()));
    }
    return ids;
  }

  /** Whether these members are a majority of the configured ones (Raft needs that many to do anything). */
  static boolean majority(Members configured, Set<String> ids) {
    return ids.size() * 2 > configured.all().size();
  }
}
