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

  /**
   * With incarnations published (docs/storage.md, section 8), the same restart is harmless: the nodes ignore the
   * wiped voter's messages, so no leader forms until the old leader returns, and the entry survives. This is the
   * default configuration of a cluster started from a members list, with no {@code initial-state = existing}.
   */
  @Test
  void aWipedVoterOfAnotherIncarnationIsIgnoredAndTheCommittedEntryKept() {
    Simulation sim = new Simulation(17, Simulation.Options.quiet(3));
    sim.publishIncarnations();
    assertTrue(sim.runUntil(() -> sim.stableLeader().isPresent()
        && sim.ids().stream().allMatch(id -> publishedAll(sim, id)), BOUND), sim::describe);
    Scene s = scene(sim);
    sim.restart(s.keeper); // as a voter, with a blank memory and a new incarnation
    sim.runFor(Duration.ofSeconds(5)); // the checker would throw were a leader elected without the entry
    assertTrue(sim.leader().isEmpty(), () -> "a leader without a majority: " + sim.describe());
    assertTrue(sim.ignoredFromLostMembers() > 0, "the wiped voter was heard from and ignored");
    sim.restart(s.leader);
    assertTrue(sim.runUntil(() -> applied(sim, s.cutOff, "committed"), BOUND), sim::describe);
    assertTrue(sim.leader().filter(l -> !l.equals(s.keeper)).isPresent(), sim::describe);
  }

  private static boolean publishedAll(Simulation sim, String id) {
    Configuration c = sim.state(id).configuration();
    return c.servers().stream().allMatch(Configuration.Server::published);
  }

  /** Who led, who kept the committed entry (and lost its disk), and who was cut off from it. */
  private record Scene(String leader, String keeper, String cutOff) {}

  /**
   * An entry committed on the leader and the keeper only; then the keeper crashes and loses its disk, the leader
   * crashes, and the network heals: the cut-off node lacks the entry.
   */
  private static Scene scene(Simulation sim) {
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
    return new Scene(leader, keeper, cutOff);
  }

  private static void run(boolean wipedNodeRestarts) {
    Simulation sim = new Simulation(17, Simulation.Options.quiet(3));
    assertTrue(sim.runUntil(() -> sim.stableLeader().isPresent(), BOUND), sim::describe);
    Scene s = scene(sim);
    String leader = s.leader;
    String keeper = s.keeper;
    String cutOff = s.cutOff;
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
