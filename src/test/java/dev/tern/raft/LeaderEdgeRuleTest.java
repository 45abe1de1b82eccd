package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.replica;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.HeartbeatTick;
import dev.tern.storage.InMemoryStorage;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/**
 * The leader's edges: messages of its own term that only another leader could send (Figure 3, Election Safety),
 * what it does on leaving office, and when its commit-stall clock (commit-stall-timeout, 250 ms = 5 heartbeats
 * here) starts and restarts.
 */
class LeaderEdgeRuleTest {
  private static final RaftSettings STALL_250MS = new RaftSettings(Duration.ofMillis(300), Duration.ofMillis(600),
      Duration.ofMillis(50), 512, 1 << 20, 8).withCommitStallTimeout(Duration.ofMillis(250));

  private static void ticks(Replica r, int n) {
    for (int i = 0; i < n; i++) r.run(HeartbeatTick.INSTANCE);
  }

  private static boolean logged(Replica r, Level level, String text) {
    return r.kit.getAllLogEntries().stream().anyMatch(e -> e.level() == level && e.message().contains(text));
  }

  // Election Safety (Figure 3): two leaders in one term cannot be. A leader answers an older term's AppendEntries
  // and InstallSnapshot (so that their sender steps down), but one of its own term only shows lost persistent state:
  // it says so in an error and answers nothing.
  @Test
  void aLeaderAnswersOlderTermsButNotAnotherLeaderOfItsOwn() {
    Replica r = replica(new InMemoryStorage());
    r.run(new AppendEntries(1, "n2", 0, 0, List.of(), 0));
    r.electLeader(); // term 2
    long term = r.status().term();
    r.run(new AppendEntries(term, "n3", 0, 0, List.of(), 0));
    r.run(new RaftMessage.InstallSnapshot(term, "n3", 5, term, Configuration.ofVoters(List.of("n1", "n2", "n3")), 0,
        new byte[0], true));
    assertTrue(r.transport.drain().isEmpty(), "nothing answers a second leader of our term");
    assertTrue(logged(r, Level.ERROR, "AppendEntries from another leader n3 in our term " + term));
    assertTrue(logged(r, Level.ERROR, "InstallSnapshot from another leader n3 in our term " + term));
    assertInstanceOf(Leader.class, r.behavior());

    r.run(new AppendEntries(term - 1, "n2", 0, 0, List.of(), 0));
    r.run(new RaftMessage.InstallSnapshot(term - 1, "n2", 5, 1, Configuration.ofVoters(List.of("n1", "n2", "n3")), 0,
        new byte[0], true));
    List<CapturingTransport.Sent> answers = r.transport.drain();
    assertEquals(2, answers.size());
    assertInstanceOf(AppendEntriesResponse.class, answers.get(0).message());
    assertInstanceOf(RaftMessage.InstallSnapshotResponse.class, answers.get(1).message());
    assertTrue(answers.stream().allMatch(a -> a.to().equals("n2") && ((RaftMessage.PeerMessage) a.message()).term() == term));
  }

  // A late vote (the election is won) is routine: no warning.
  @Test
  void aLateVoteIsDroppedQuietly() {
    Replica r = replica(new InMemoryStorage());
    r.electLeader();
    r.kit.clearLog();
    r.run(new RaftMessage.RequestVoteResponse(1, "n3", true));
    assertInstanceOf(Leader.class, r.behavior());
    assertTrue(r.kit.getAllLogEntries().stream().noneMatch(e -> e.level() == Level.WARN));
  }

  // Dissertation 4.2.2 with 6.4: a leader that removed itself and steps down answers the reads it held NotLeader
  // and stops its heartbeats.
  @Test
  void aLeaderThatRemovedItselfLeavesNoReadWaitingAndStopsItsHeartbeats() {
    Replica r = MembershipRuleTest.leader();
    MembershipRuleTest.change(r, new RaftMessage.Change.Remove("n1"));
    TestInbox<RaftMessage.ReadIndexResponse> reads = TestInbox.create();
    r.run(new RaftMessage.ReadIndex(reads.getRef()));
    r.effects();
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    r.run(AppendEntriesResponse.success(1, "n3", 2));
    assertInstanceOf(Follower.class, r.behavior());
    assertInstanceOf(RaftMessage.ReadIndexResponse.NotLeader.class, reads.receiveMessage());
    assertTrue(RaftFixtures.cancelled(r.effects(), ReplicaState.HEARTBEAT_TIMER), "heartbeats stop");
  }

  // A leader deposed by a newer term stops its heartbeats too.
  @Test
  void aDeposedLeaderStopsItsHeartbeats() {
    Replica r = replica(new InMemoryStorage());
    r.electLeader();
    r.effects();
    r.run(new AppendEntries(5, "n2", 0, 0, List.of(), 0));
    assertInstanceOf(Follower.class, r.behavior());
    assertTrue(RaftFixtures.cancelled(r.effects(), ReplicaState.HEARTBEAT_TIMER));
  }

  // A new leader's no-op waits from the moment it is appended: unacknowledged, it is a stall after 250 ms, not
  // before.
  @Test
  void aNewLeadersNoOpWaitsFromItsElection() {
    Replica r = replica(new InMemoryStorage(), STALL_250MS);
    r.electLeader();
    ticks(r, 4);
    assertNull(r.status().commitStall(), "200 ms");
    ticks(r, 1);
    assertNotNull(r.status().commitStall(), "250 ms");
  }

  // Dissertation 4.1: a configuration entry waits to commit like any other; a heartbeat that comes between its
  // append and its flush finds it waiting since just now.
  @Test
  void aConfigurationEntryWaitsFromItsAppend() {
    Replica r = replica(new InMemoryStorage(), STALL_250MS);
    r.electLeader();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    ticks(r, 20);
    r.transport.drain();
    TestInbox<RaftMessage.ChangeMembershipResponse> inbox = TestInbox.create();
    r.run(new RaftMessage.ChangeMembership(new RaftMessage.Change.Remove("n3"), inbox.getRef()));
    ticks(r, 1); // before the flush
    assertNull(r.status().commitStall(), "appended just now");
    r.runSelf();
    ticks(r, 3);
    assertNull(r.status().commitStall(), "200 ms");
    ticks(r, 1);
    assertNotNull(r.status().commitStall(), "250 ms");
  }

  // Answers that commit nothing (heartbeats acknowledged at the old commit index) do not restart the clock.
  @Test
  void acknowledgementsThatCommitNothingDoNotHideAStall() {
    Replica r = replica(new InMemoryStorage(), STALL_250MS);
    r.electLeader();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    assertEquals(1, r.status().commitIndex());
    r.propose("x");
    r.runSelf();
    for (int i = 0; i < 5; i++) {
      r.run(HeartbeatTick.INSTANCE);
      r.run(AppendEntriesResponse.success(1, "n2", 1));
      r.run(AppendEntriesResponse.success(1, "n3", 1));
    }
    assertEquals(1, r.status().commitIndex());
    String stall = r.status().commitStall();
    assertNotNull(stall, "250 ms without a commit, answers or not");
    assertTrue(stall.contains("n2 has 1, last answered 50 ms ago"), stall);
  }

  // A rejection of a heartbeat at matchIndex means the follower lost what it acknowledged only if it says its log
  // now ends before it; one that says otherwise answers an old request, and the leader keeps what it knows.
  @Test
  void aRejectionThatDoesNotShowALostLogIsAnOldAnswer() {
    Replica r = replica(new InMemoryStorage());
    r.electLeader();
    r.propose("x");
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    r.transport.drain();
    r.run(AppendEntriesResponse.reject(1, "n2", 2, 3, 0));
    assertEquals(2, r.status().followers().get(0).matchIndex(), "kept");
    assertTrue(r.transport.drain().isEmpty());
    r.run(AppendEntriesResponse.reject(1, "n2", 2, 2, 0));
    assertEquals(0, r.status().followers().get(0).matchIndex(), "its log ends before 2: start over");
  }

  // A follower that answered before the leader's first heartbeat (tick 0) has answered: the stall report says
  // when, not "never".
  @Test
  void anAnswerBeforeTheFirstHeartbeatCounts() {
    Replica r = replica(new InMemoryStorage(), STALL_250MS);
    r.electLeader();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    r.propose("x");
    r.runSelf();
    ticks(r, 5);
    String stall = r.status().commitStall();
    assertNotNull(stall);
    assertTrue(stall.contains("n2 has 1, last answered 250 ms ago") && stall.contains("n3 has 0, last answered never"),
        stall);
  }
}
