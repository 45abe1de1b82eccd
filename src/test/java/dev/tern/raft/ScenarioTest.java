package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Named scenarios from the Raft paper, scripted on the deterministic {@link Simulation}: the test chooses the
 * faults, the simulation checks Figure 3's properties after every step.
 */
class ScenarioTest {
  private static final Duration ELECTION_BOUND = Duration.ofSeconds(3);

  private static String leaderOf(Simulation sim) {
    assertTrue(sim.runUntil(() -> sim.stableLeader().isPresent(), ELECTION_BOUND), () -> "no leader: " + sim.describe());
    return sim.stableLeader().orElseThrow();
  }

  private static List<String> others(Simulation sim, String... excluded) {
    List<String> out = new ArrayList<>(sim.ids());
    out.removeAll(List.of(excluded));
    return out;
  }

  private static boolean holds(Simulation sim, String id, String command) {
    RaftLog log = sim.state(id).log;
    byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
    for (long i = 1; i <= log.lastIndex(); i++) if (java.util.Arrays.equals(log.get(i).data(), bytes)) return true;
    return false;
  }

  private static boolean applied(Simulation sim, String id, String command) {
    byte[] bytes = command.getBytes(StandardCharsets.UTF_8);
    return sim.applied(id).stream().anyMatch(e -> java.util.Arrays.equals(e.data(), bytes));
  }

  /** Section 5.2: from a cold start, one leader is elected and every replica learns of it. */
  @Test
  void firstElection() {
    Simulation sim = new Simulation(1, Simulation.Options.quiet(3));
    String leader = leaderOf(sim);
    long term = sim.state(leader).currentTerm;
    // Its no-op (section 8) commits, which also tells the followers who leads.
    assertTrue(sim.runUntil(() -> sim.ids().stream().allMatch(id -> sim.state(id).commitIndex >= 1), ELECTION_BOUND));
    for (String id : sim.ids()) {
      assertEquals(term, sim.state(id).currentTerm, id);
      assertEquals(leader, sim.state(id).leaderId, id);
      assertEquals(id.equals(leader) ? Role.LEADER : Role.FOLLOWER, sim.role(id));
      assertEquals(LogEntry.noop(1, term), sim.state(id).log.get(1));
    }
  }

  /** Section 5.2: when the leader stops, the others elect a new one in a later term, and it serves. */
  @Test
  void reElectionAfterLeaderStops() {
    Simulation sim = new Simulation(2, Simulation.Options.quiet(5));
    String first = leaderOf(sim);
    long firstTerm = sim.state(first).currentTerm;
    sim.propose(first, "before");
    assertTrue(sim.runUntil(() -> others(sim, first).stream().allMatch(id -> applied(sim, id, "before")), ELECTION_BOUND));
    sim.crash(first);
    String second = leaderOf(sim);
    assertNotEquals(first, second);
    assertTrue(sim.state(second).currentTerm > firstTerm);
    assertTrue(sim.commandAppliedEverywhere("after", Duration.ofSeconds(5)) || !sim.up(first));
    assertTrue(others(sim, first).stream().allMatch(id -> applied(sim, id, "s2-after")), sim::describe);
  }

  /**
   * Section 5.3: a leader cut off with a minority keeps appending, but cannot commit; a new leader commits
   * in a later term, and when the partition heals the old leader's uncommitted entries are overwritten.
   */
  @Test
  void partitionedOldLeaderHasItsUncommittedEntriesOverwritten() {
    Simulation sim = new Simulation(3, Simulation.Options.quiet(5));
    String old = leaderOf(sim);
    String buddy = others(sim, old).get(0);
    List<String> majority = others(sim, old, buddy);
    sim.partition(List.of(List.of(old, buddy), majority));
    for (int i = 0; i < 3; i++) sim.propose(old, "lost-" + i);
    sim.runFor(Duration.ofMillis(100));
    assertTrue(holds(sim, buddy, "lost-2"), "the minority follower got the entries");
    long oldCommit = sim.state(old).commitIndex;

    assertTrue(sim.runUntil(() -> sim.stableLeader().filter(majority::contains).isPresent(), ELECTION_BOUND));
    String fresh = sim.stableLeader().orElseThrow();
    sim.propose(fresh, "kept");
    assertTrue(sim.runUntil(() -> majority.stream().allMatch(id -> applied(sim, id, "kept")), ELECTION_BOUND));
    assertEquals(oldCommit, sim.state(old).commitIndex, "the old leader committed nothing without a majority");

    sim.healNetwork();
    assertTrue(sim.runUntil(() -> applied(sim, old, "kept") && applied(sim, buddy, "kept"), ELECTION_BOUND), sim::describe);
    assertEquals(Role.FOLLOWER, sim.role(old));
    for (String id : sim.ids()) {
      for (int i = 0; i < 3; i++) {
        assertFalse(holds(sim, id, "lost-" + i), id + " still holds an uncommitted entry of the old leader");
        assertFalse(applied(sim, id, "lost-" + i));
      }
    }
  }

  /**
   * Figure 8 and section 5.4.2: a leader must not commit an entry of an earlier term just because a majority
   * holds it. Here leader A' of term T3 replicates X (term T1) to a majority, then dies before its own no-op
   * of T3 spreads; E, which holds a different entry at X's index from term T2, can still be elected and
   * overwrite X. That is only safe because X was never committed, which the checker verifies.
   */
  @Test
  void figure8AnOldTermEntryOnAMajorityIsNotCommitted() {
    RaftSettings oneEntryPerAppend = new RaftSettings(Duration.ofMillis(300), Duration.ofMillis(600),
        Duration.ofMillis(50), 1, 1 << 20, 1);
    Simulation sim = new Simulation(8, Simulation.Options.quiet(5), oneEntryPerAppend);
    // (a) A leads term T1; X reaches only B.
    String a = leaderOf(sim);
    assertTrue(sim.runUntil(() -> sim.ids().stream().allMatch(id -> sim.state(id).commitIndex >= 1), ELECTION_BOUND));
    String b = others(sim, a).get(0);
    List<String> rest = others(sim, a, b);
    sim.partition(List.of(List.of(a, b), rest));
    sim.propose(a, "X");
    assertTrue(sim.runUntil(() -> holds(sim, b, "X"), ELECTION_BOUND));
    long xIndex = sim.state(a).log.lastIndex();
    sim.crash(a);

    // (b) E is elected among the rest in T2, appends its no-op at X's index, and dies before sending it.
    assertTrue(sim.runUntil(() -> sim.stableLeader().filter(rest::contains).isPresent(), ELECTION_BOUND));
    String e = sim.stableLeader().orElseThrow();
    sim.isolate(e);
    assertEquals(xIndex, sim.state(e).log.lastIndex());
    assertTrue(sim.runUntil(() -> sim.state(e).durableIndex == xIndex, ELECTION_BOUND), "E's entry reaches its disk");
    sim.crash(e);
    List<String> cd = others(sim, a, b, e);

    // (c) A restarts; A or B (they hold X) wins T3 and replicates X to C. Stop the moment it hears C's ack.
    // D hears nothing from A or B, so only C can receive X (as S3 does in the figure).
    String c = cd.get(0);
    String d = cd.get(1);
    sim.healNetwork();
    sim.link(d, a, false);
    sim.link(d, b, false);
    sim.restart(a);
    assertTrue(sim.runUntil(() -> sim.stableLeader().isPresent(), ELECTION_BOUND), sim::describe);
    String leader3 = sim.stableLeader().orElseThrow();
    assertTrue(List.of(a, b).contains(leader3), () -> "only a replica holding X can win T3: " + sim.describe());
    assertTrue(sim.runUntil(() -> leader3.equals(sim.lastDeliveredTo)
        && sim.lastDelivered instanceof AppendEntriesResponse r && r.success() && r.from().equals(c)
        && r.matchIndex() >= xIndex, ELECTION_BOUND), sim::describe);
    sim.isolate(leader3);
    // X is on a majority (A, B, C) but is of an older term: the leader of T3 must not count it committed.
    assertTrue(sim.state(leader3).commitIndex < xIndex, "X committed by replica count alone: " + sim.describe());
    sim.crash(leader3);

    // (d) E comes back and wins with the votes of C and D, then overwrites X everywhere.
    sim.healNetwork();
    String otherHolder = a.equals(leader3) ? b : a;
    sim.crash(otherHolder); // it may hold T3's no-op and would refuse E its vote; the figure has it down too
    sim.restart(e);
    assertTrue(sim.runUntil(() -> sim.stableLeader().filter(e::equals).isPresent(), ELECTION_BOUND), sim::describe);
    assertTrue(sim.runUntil(() -> !holds(sim, c, "X"), ELECTION_BOUND), "E overwrote X on C");

    // (e) Everyone converges on E's log; X was never applied anywhere.
    sim.restart(leader3);
    sim.restart(otherHolder);
    assertTrue(sim.commandAppliedEverywhere("after", Duration.ofSeconds(5)), sim::describe);
    for (String id : sim.ids()) assertFalse(applied(sim, id, "X"), id + " applied X");
  }

  /** Section 5.3: followers whose logs diverged across several terms all converge on the leader's log. */
  @Test
  void followersWithDivergentLogsConverge() {
    Simulation sim = new Simulation(5, Simulation.Options.quiet(5));
    // Three rounds: the current leader is cut off alone and appends entries nobody else gets, while the rest
    // elect a new leader. Each cut-off leader ends up with a different uncommitted suffix.
    List<String> stranded = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      String leader = leaderOf(sim);
      List<String> rest = others(sim, leader);
      sim.partition(List.of(List.of(leader), rest));
      for (int i = 0; i < 3; i++) sim.propose(leader, "stranded-" + round + "-" + i);
      stranded.add(leader);
      assertTrue(sim.runUntil(() -> sim.stableLeader().filter(rest::contains).isPresent(), ELECTION_BOUND));
      sim.propose(sim.stableLeader().orElseThrow(), "committed-" + round);
      final int r = round;
      assertTrue(sim.runUntil(() -> rest.stream().allMatch(id -> applied(sim, id, "committed-" + r)), ELECTION_BOUND));
      sim.healNetwork();
    }
    assertTrue(sim.commandAppliedEverywhere("final", Duration.ofSeconds(5)), sim::describe);
    sim.runFor(Duration.ofMillis(200));
    String leader = sim.stableLeader().orElseThrow();
    List<LogEntry> reference = sim.state(leader).log.entries();
    for (String id : sim.ids()) {
      assertEquals(reference, sim.state(id).log.entries(), id + "'s log differs from the leader's");
      for (int round = 0; round < 3; round++) assertTrue(applied(sim, id, "committed-" + round));
    }
  }

  /**
   * Section 5.4.1: a candidate whose log lacks committed entries cannot win an election. Without pre-vote,
   * so that the stale node really campaigns with ever higher terms.
   */
  @Test
  void candidateWithStaleLogCannotWin() {
    Simulation sim = new Simulation(6, Simulation.Options.quiet(3), TestSettings.DEFAULTS);
    String leader = leaderOf(sim);
    String stale = others(sim, leader).get(0);
    String current = others(sim, leader).get(1);
    sim.isolate(stale);
    for (int i = 0; i < 5; i++) sim.propose(leader, "w" + i);
    assertTrue(sim.runUntil(() -> applied(sim, current, "w4"), ELECTION_BOUND));
    // The stale node times out again and again while alone, raising its term above everyone's.
    sim.runFor(Duration.ofSeconds(2));
    assertTrue(sim.state(stale).currentTerm > sim.state(current).currentTerm);
    sim.crash(leader);
    sim.healNetwork();
    // Its higher term disrupts the other node, but its votes are refused; only the up-to-date node can win.
    long deadline = sim.nowMillis() + 3000;
    while (sim.stableLeader().isEmpty() && sim.nowMillis() < deadline) {
      sim.step();
      assertNotEquals(Role.LEADER, sim.role(stale), "a candidate with a stale log won");
    }
    assertEquals(current, sim.stableLeader().orElseThrow());
  }

  /**
   * Dissertation 9.6: with pre-vote, a node cut off for a while neither raises its term nor, when it
   * returns, forces the working leader to step down; the leader serves writes and reads throughout, and the
   * returning node catches up. Then the same for a node that crashed and restarts.
   */
  @Test
  void withPreVoteAReturningNodeDoesNotDisruptTheLeader() {
    Simulation sim = new Simulation(7, Simulation.Options.quiet(3), TestSettings.SHIPPED.withPreVote(true));
    String leader = leaderOf(sim);
    long term = sim.state(leader).currentTerm;
    String loner = others(sim, leader).get(0);
    sim.isolate(loner);
    sim.runFor(Duration.ofSeconds(3)); // many election timeouts
    assertEquals(term, sim.state(loner).currentTerm, "pre-votes that no one answers raise no term");
    assertCommits(sim, leader, "while-cut-off");
    assertReadConfirmed(sim, leader);
    sim.healNetwork();
    sim.runFor(Duration.ofSeconds(2));
    assertEquals(leader, sim.stableLeader().orElseThrow());
    assertEquals(term, sim.state(leader).currentTerm, "the leader kept its term");
    assertEquals(leader, sim.state(loner).leaderId);
    assertTrue(applied(sim, loner, "while-cut-off"), "the returning node caught up");
    assertReadConfirmed(sim, leader);

    // A rejoining node that restarts: it hears the leader before its election timer fires, or its pre-vote
    // is refused by nodes that hear the leader; either way the leader stays.
    String restarted = others(sim, leader).get(1);
    sim.crash(restarted);
    assertCommits(sim, leader, "while-down");
    sim.restart(restarted);
    sim.runFor(Duration.ofSeconds(2));
    assertEquals(leader, sim.stableLeader().orElseThrow());
    assertEquals(term, sim.state(leader).currentTerm, "the leader kept its term through the restart");
    assertTrue(applied(sim, restarted, "while-down"), "the restarted node caught up");
  }

  /**
   * The contrast that motivates dissertation 9.6: without pre-vote, the same returning node has raised its
   * term while alone, and its first message deposes the working leader (the cluster recovers, but a term is
   * lost to an election).
   */
  @Test
  void withoutPreVoteAReturningNodeDisruptsTheLeader() {
    Simulation sim = new Simulation(7, Simulation.Options.quiet(3), TestSettings.DEFAULTS);
    String leader = leaderOf(sim);
    long term = sim.state(leader).currentTerm;
    String loner = others(sim, leader).get(0);
    sim.isolate(loner);
    sim.runFor(Duration.ofSeconds(3));
    assertTrue(sim.state(loner).currentTerm > term, "alone, it campaigned in ever higher terms");
    sim.healNetwork();
    sim.runFor(Duration.ofSeconds(2));
    String after = leaderOf(sim);
    assertTrue(sim.state(after).currentTerm > term, "the leader of term " + term + " was deposed");
    assertCommits(sim, after, "after-disruption");
  }

  /**
   * Section 2 (and dissertation chapter 3): a cluster is available as long as a majority can communicate. A
   * leader cut off with a minority is replaced; the majority side elects a leader that commits writes and
   * confirms reads while the minority stays cut off. The old leader cannot confirm a read (dissertation 6.4:
   * it cannot hear a majority) nor commit; it answers its waiting read NotLeader once it steps down (CheckQuorum,
   * dissertation 6.2), or at the latest when the partition heals.
   */
  @Test
  void aPartitionedMinorityWithTheLeaderDoesNotBlockTheMajority() {
    Simulation sim = new Simulation(11, Simulation.Options.quiet(5));
    String old = leaderOf(sim);
    String buddy = others(sim, old).get(0);
    List<String> majority = others(sim, old, buddy);
    sim.partition(List.of(List.of(old, buddy), majority));
    SimRequest.Read staleRead = sim.read(old);
    SimRequest.Proposal stuck = sim.propose(old, "minority-write");
    assertTrue(stuck.answer() instanceof RaftMessage.ProposeResponse.Accepted, "the old leader still accepts");

    assertTrue(sim.runUntil(() -> sim.stableLeader().filter(majority::contains).isPresent(), ELECTION_BOUND), sim::describe);
    String fresh = sim.stableLeader().orElseThrow();
    for (int i = 0; i < 5; i++) {
      assertCommits(sim, fresh, "majority-" + i);
      assertReadConfirmed(sim, fresh);
    }
    for (String id : majority) assertTrue(applied(sim, id, "majority-4"), id);
    assertFalse(staleRead.answer() instanceof RaftMessage.ReadIndexResponse.Ok,
        "the cut-off leader confirmed a read without a majority");
    assertFalse(applied(sim, old, "minority-write"));

    sim.healNetwork();
    assertTrue(sim.runUntil(() -> staleRead.answer() != null, ELECTION_BOUND), "the old leader's read was never answered");
    assertTrue(staleRead.answer() instanceof RaftMessage.ReadIndexResponse.NotLeader, () -> "got " + staleRead.answer());
    assertTrue(sim.runUntil(() -> applied(sim, old, "majority-4") && applied(sim, buddy, "majority-4"), ELECTION_BOUND));
    for (String id : sim.ids()) assertFalse(applied(sim, id, "minority-write"), id + " applied the minority's write");
  }

  /**
   * Section 2: a minority cut off without the leader changes nothing for the majority. With pre-vote
   * (dissertation 9.6) the leader keeps its term, and writes and reads go on.
   */
  @Test
  void aPartitionedMinorityWithoutTheLeaderDoesNotDisturbIt() {
    Simulation sim = new Simulation(12, Simulation.Options.quiet(5), TestSettings.SHIPPED.withPreVote(true));
    String leader = leaderOf(sim);
    long term = sim.state(leader).currentTerm;
    List<String> minority = others(sim, leader).subList(0, 2);
    sim.partition(List.of(minority));
    for (int i = 0; i < 5; i++) {
      assertCommits(sim, leader, "w" + i);
      assertReadConfirmed(sim, leader);
      sim.runFor(Duration.ofMillis(400)); // past the election timeout: the minority campaigns in vain
    }
    assertEquals(term, sim.state(leader).currentTerm, "the leader kept its term");
    for (String id : minority) assertFalse(applied(sim, id, "w0"), id + " could not have heard of w0");
    sim.healNetwork();
    assertTrue(sim.runUntil(() -> minority.stream().allMatch(id -> applied(sim, id, "w4")), ELECTION_BOUND));
    assertEquals(leader, sim.stableLeader().orElseThrow());
    assertEquals(term, sim.state(leader).currentTerm);
  }

  /**
   * Section 5.3: a follower that was down while the others went on catches up when it restarts: the leader
   * backs up to where their logs agree and sends the rest, and the follower applies all of it.
   */
  @Test
  void aRestartedNodeCatchesUpFromTheLog() {
    Simulation sim = new Simulation(13, Simulation.Options.quiet(3));
    String leader = leaderOf(sim);
    String follower = others(sim, leader).get(0);
    assertCommits(sim, leader, "before");
    sim.crash(follower);
    for (int i = 0; i < 40; i++) sim.propose(leader, "while-down-" + i);
    assertCommits(sim, leader, "last");
    sim.restart(follower);
    assertCaughtUp(sim, leader, follower);
    assertEquals(0, sim.snapshotsInstalled(follower), "caught up from the log, not a snapshot");
    for (int i = 0; i < 40; i++) assertTrue(applied(sim, follower, "while-down-" + i));
  }

  /**
   * Sections 5.3 and 7: when the leader has compacted the entries a restarted follower lacks, the follower
   * catches up by InstallSnapshot and then the log (tiny snapshots, no trailing entries).
   */
  @Test
  void aRestartedNodeCatchesUpFromASnapshot() {
    Simulation sim = new Simulation(14, Simulation.Options.quiet(3), TestSettings.SHIPPED.withSnapshots(512, 0, 128));
    String leader = leaderOf(sim);
    String follower = others(sim, leader).get(0);
    assertCommits(sim, leader, "before");
    sim.crash(follower);
    for (int i = 0; i < 60; i++) sim.propose(leader, "while-down-" + i);
    assertCommits(sim, leader, "last");
    // The follower's log ends at about index 2; the leader's now starts well after it.
    assertTrue(sim.runUntil(() -> sim.state(leader).log.baseIndex() > 10, ELECTION_BOUND), "the leader compacted its log");
    sim.restart(follower);
    assertCaughtUp(sim, leader, follower);
    assertTrue(sim.snapshotsInstalled(follower) > 0, "caught up through InstallSnapshot");
    assertTrue(applied(sim, follower, "last"));
  }

  /**
   * Figure 2, "persist before responding", when the disk fails: a node whose fsync fails stops (as TernNode
   * does on FileStorage.onFailure) and acknowledges nothing after the failure (the simulation checks every
   * message it sends). Here it is the leader: the others elect a new one that holds every committed entry
   * (Leader Completeness, checked) and goes on; the stopped node restarts on what was durable and catches up.
   */
  @Test
  void aLeaderWhoseFsyncFailsStopsAndTheOthersGoOn() {
    Simulation sim = new Simulation(15, Simulation.Options.quiet(3));
    String leader = leaderOf(sim);
    assertCommits(sim, leader, "before");
    sim.failNextFsync(leader);
    sim.propose(leader, "during"); // its own write of this entry is the fsync that fails
    assertTrue(sim.runUntil(() -> !sim.up(leader), ELECTION_BOUND), "the node kept running without its disk");
    assertTrue(sim.runUntil(() -> sim.stableLeader().isPresent(), ELECTION_BOUND), sim::describe);
    String next = sim.stableLeader().orElseThrow();
    assertCommits(sim, next, "after");
    assertReadConfirmed(sim, next);
    sim.restart(leader);
    assertCaughtUp(sim, next, leader);
    assertTrue(applied(sim, leader, "after"));
  }

  /**
   * Dissertation 6.2 (CheckQuorum): a leader cut off with a minority steps down within two of its windows
   * (election-timeout-max each), keeps its term, says why in its status, and follows the new leader after the heal.
   */
  @Test
  void aLeaderCutOffFromTheMajorityStepsDown() {
    Simulation sim = new Simulation(13, Simulation.Options.quiet(5), TestSettings.SHIPPED);
    String old = leaderOf(sim);
    long term = sim.state(old).currentTerm;
    String buddy = others(sim, old).get(0);
    sim.partition(List.of(List.of(old, buddy), others(sim, old, buddy)));
    long cutAt = sim.nowMillis();
    assertTrue(sim.runUntil(() -> !sim.leads(old, term), Duration.ofMillis(1300)), () -> "still leads: " + sim.describe());
    assertTrue(sim.nowMillis() - cutAt >= 600, "not before a whole window without a majority");
    assertEquals(term, sim.state(old).currentTerm);
    assertTrue(sim.state(old).quorumLost.startsWith("stepped down as leader of term " + term), sim.state(old).quorumLost);
    sim.healNetwork();
    assertTrue(sim.runUntil(() -> sim.state(old).leaderId != null && !sim.state(old).leaderId.equals(old), ELECTION_BOUND));
    assertEquals(null, sim.state(old).quorumLost, "a leader is heard again");
  }

  /**
   * Dissertation 3.10: the leader hands over to a chosen follower, which wins at once (well before any election
   * timer could fire) in the next term; the writes committed before are all there, a proposal made during the
   * handover is refused (and could be retried), and the new leader commits.
   */
  @Test
  void leadershipTransferHandsOverWithoutAnElectionTimeout() {
    Simulation sim = new Simulation(14, Simulation.Options.quiet(3), TestSettings.SHIPPED);
    String old = leaderOf(sim);
    long term = sim.state(old).currentTerm;
    assertCommits(sim, old, "before");
    String target = others(sim, old).get(1);
    var reply = sim.transferLeadership(old, target);
    SimRequest.Proposal during = sim.propose(old, "during");
    assertEquals(new RaftMessage.ProposeResponse.NotLeader(null), during.answer());
    long askedAt = sim.nowMillis();
    assertTrue(sim.runUntil(reply::hasMessages, ELECTION_BOUND), sim::describe);
    assertEquals(new RaftMessage.TransferLeadershipResponse.Transferred(target, term + 1), reply.receiveMessage());
    assertTrue(sim.nowMillis() - askedAt < 100, "took " + (sim.nowMillis() - askedAt) + " ms: an election timeout?");
    assertTrue(sim.leads(target, term + 1));
    assertTrue(applied(sim, target, "before") || sim.runUntil(() -> applied(sim, target, "before"), ELECTION_BOUND));
    assertCommits(sim, target, "after");
    for (String id : sim.ids()) assertFalse(holds(sim, id, "during"), id + " holds the refused proposal");
  }

  // ---- liveness helpers: each waits a bounded simulated time ----------------------------------------

  /** Proposes to the leader; it must be accepted, then committed and applied there. */
  private static void assertCommits(Simulation sim, String leader, String command) {
    SimRequest.Proposal p = sim.propose(leader, command);
    assertTrue(p.answer() instanceof RaftMessage.ProposeResponse.Accepted, () -> command + " got " + p.answer());
    assertTrue(sim.runUntil(() -> applied(sim, leader, command), ELECTION_BOUND), () -> command + " did not commit: " + sim.describe());
  }

  /** Asks the leader for a read index; it must be confirmed (not NotLeader) within the bound. */
  private static void assertReadConfirmed(Simulation sim, String leader) {
    SimRequest.Read r = sim.read(leader);
    assertTrue(sim.runUntil(() -> r.answer() != null, ELECTION_BOUND), () -> "read not answered: " + sim.describe());
    assertTrue(r.answer() instanceof RaftMessage.ReadIndexResponse.Ok, () -> "read got " + r.answer());
  }

  /** The follower's state machine reaches the leader's commit index, and its log matches the leader's. */
  private static void assertCaughtUp(Simulation sim, String leader, String follower) {
    assertTrue(sim.runUntil(() -> sim.stateMachineApplied(follower) == sim.state(leader).commitIndex, ELECTION_BOUND),
        () -> follower + " did not catch up: " + sim.describe());
    long commit = sim.state(leader).commitIndex;
    assertEquals(sim.state(leader).log.termAt(commit), sim.state(follower).log.termAt(commit));
  }
}
