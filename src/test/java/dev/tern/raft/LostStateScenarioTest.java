package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 17 on the deterministic {@link Simulation}: why a voter that lost its disk must not come back as a voter
 * (section 5.4; the paper assumes a server never forgets its term, vote and log). An entry is committed on the leader
 * and one follower while the third node is cut off; the follower loses its disk and the leader goes down.
 * <ul>
 *   <li>Restarted empty as a voter, the follower gives its vote to the third node, whose log lacks the entry, and
 *       that node leads without a committed entry: the checker catches it.
 *   <li>Refused instead (it stays down: {@code tern node} refuses an empty data directory of an existing cluster, and
 *       {@code --join} refuses an empty voter), the third node alone is no majority; once the old leader returns, its
 *       log wins the election and the entry reaches every live node.
 * </ul>
 */
class LostStateScenarioTest {
  private static final Duration BOUND = Duration.ofSeconds(3);

  @Test
  void aVoterRestartedOnAnEmptyDiskLetsALeaderLoseACommittedEntry() {
    InvariantChecker.Violation v = assertThrows(InvariantChecker.Violation.class, () -> run(true));
    assertTrue(v.getMessage().startsWith("Leader Completeness") || v.getMessage().startsWith("State Machine Safety")
        || v.getMessage().startsWith("Election Safety"), v.getMessage());
  }

  @Test
  void refusingTheEmptyVoterKeepsTheCommittedEntry() {
    run(false);
  }

  private static void run(boolean wipedNodeRestarts) {
    Simulation sim = new Simulation(17, Simulation.Options.quiet(3));
    assertTrue(sim.runUntil(() -> sim.stableLeader().isPresent(), BOUND), sim::describe);
    String leader = sim.stableLeader().orElseThrow();
    List<String> others = new ArrayList<>(sim.ids());
    others.remove(leader);
    String keeper = others.get(0);
    String cutOff = others.get(1);

    sim.isolate(cutOff);
    sim.propose(leader, "committed");
    assertTrue(sim.runUntil(() -> applied(sim, leader, "committed") && holds(sim, keeper, "committed"), BOUND),
        sim::describe);
    assertTrue(!holds(sim, cutOff, "committed"), "the cut-off node must lack the entry");

    sim.crash(keeper);
    sim.wipe(keeper); // its disk is lost
    sim.crash(leader);
    sim.healNetwork();
    if (wipedNodeRestarts) {
      sim.restart(keeper); // as a voter, with a blank memory
      sim.runFor(Duration.ofSeconds(5)); // the checker throws as soon as a leader lacks the committed entry
      return;
    }
    sim.runFor(Duration.ofSeconds(2));
    assertTrue(sim.leader().isEmpty(), () -> "a leader without a majority: " + sim.describe());
    sim.restart(leader);
    assertTrue(sim.runUntil(() -> applied(sim, cutOff, "committed"), BOUND), sim::describe);
    assertTrue(sim.stableLeader().filter(leader::equals).isPresent(), "the node with the entry leads");
  }

  private static boolean holds(Simulation sim, String id, String command) {
    RaftLog log = sim.state(id).log;
    byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
    for (long i = log.firstIndex(); i <= log.lastIndex(); i++) {
      if (java.util.Arrays.equals(log.get(i).data(), bytes)) return true;
    }
    return false;
  }

  private static boolean applied(Simulation sim, String id, String command) {
    byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
    return sim.applied(id).stream().anyMatch(e -> java.util.Arrays.equals(e.data(), bytes));
  }
}
