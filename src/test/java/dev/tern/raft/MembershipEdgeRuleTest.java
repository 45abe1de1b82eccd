package dev.tern.raft;

import static dev.tern.raft.MembershipRuleTest.N4;
import static dev.tern.raft.MembershipRuleTest.THREE;
import static dev.tern.raft.MembershipRuleTest.change;
import static dev.tern.raft.MembershipRuleTest.leader;
import static dev.tern.raft.MembershipRuleTest.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.Configuration.Server;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.Change;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse.Failed;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse.Reason;
import dev.tern.raft.RaftMessage.HeartbeatTick;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The edges of the leader's membership rules (dissertation chapter 4): even-sized majorities, a change appended
 * without an operator's request (a promotion), the exact length of a learner's catch-up round, and a change
 * pending when the leader is deposed.
 */
class MembershipEdgeRuleTest {
  static final Configuration FOUR = THREE.with(Server.voter("n4"));

  private static void ticks(Replica r, int n) {
    for (int i = 0; i < n; i++) r.run(HeartbeatTick.INSTANCE);
  }

  /** Leader n1 of {n1..n3} with learner n4 added (entry 2, committed); n4 has not answered yet. */
  private static Replica leaderWithCommittedLearner() {
    Replica r = leader();
    change(r, new Change.AddLearner(N4));
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    assertEquals(2, r.status().commitIndex());
    return r;
  }

  // 6.4 with 4.1: a read is confirmed by a majority of the voters in force; of four voters, that is three (the
  // leader and two more), not two.
  @Test
  void ofFourVotersAReadNeedsThree() {
    Replica r = leader(FOUR);
    TestInbox<RaftMessage.ReadIndexResponse> reads = TestInbox.create();
    r.run(new RaftMessage.ReadIndex(reads.getRef()));
    long round = r.appendsSent().get(0).ae().readRound();
    r.run(AppendEntriesResponse.success(1, "n2", 1).forRound(round));
    assertFalse(reads.hasMessages(), "the leader and n2 are half of four voters, no majority");
    r.run(AppendEntriesResponse.success(1, "n3", 1).forRound(round));
    assertEquals(new RaftMessage.ReadIndexResponse.Ok(1), reads.receiveMessage());
  }

  // Figure 2's commit rule over four voters: an entry held by two of them (the leader and one more) is not
  // committed; by three it is.
  @Test
  void ofFourVotersAnEntryCommitsOnThree() {
    Replica r = leader(FOUR);
    r.propose("x");
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    assertEquals(1, r.status().commitIndex());
    r.run(AppendEntriesResponse.success(1, "n4", 2));
    assertEquals(2, r.status().commitIndex());
  }

  // 4.1: one change at a time, whoever appended it: a promotion the leader appended on its own (no operator's
  // request waits for it) still holds off the next change until it commits.
  @Test
  void anUncommittedPromotionHoldsOffTheNextChange() {
    Replica r = leaderWithCommittedLearner();
    r.run(AppendEntriesResponse.success(1, "n4", 2));
    r.run(HeartbeatTick.INSTANCE);
    r.runSelf();
    assertEquals(3, r.log().lastIndex(), "n4 caught up at once: promoted");
    assertTrue(state(r).configuration().isVoter("n4"));

    Failed refused = assertInstanceOf(Failed.class, change(r, new Change.Remove("n3")).receiveMessage());
    assertEquals(Reason.IN_PROGRESS, refused.reason());
    assertEquals("the change at index 3 is not committed yet; retry", refused.message());
    assertEquals(3, r.log().lastIndex());
  }

  // 4.1: asking again for the change that is being made is told to wait, not that the server is already a member.
  @Test
  void askingAgainForAnUncommittedAdditionIsInProgress() {
    Replica r = leader();
    TestInbox<ChangeMembershipResponse> first = change(r, new Change.AddLearner(N4));
    Failed again = assertInstanceOf(Failed.class, change(r, new Change.AddLearner(N4)).receiveMessage());
    assertEquals(Reason.IN_PROGRESS, again.reason());
    assertEquals("the change at index 2 is not committed yet; retry", again.message());
    assertEquals(2, r.log().lastIndex());
    assertFalse(first.hasMessages());
  }

  // 4.1 and 4.2.2: committing entries before an uncommitted change neither answers it nor makes the leader step
  // down, even when the change removes the leader itself.
  @Test
  void aCommitBeforeTheChangeNeitherAnswersItNorEndsTheLeadership() {
    Replica r = leader();
    r.propose("x");
    r.runSelf();
    TestInbox<ChangeMembershipResponse> inbox = change(r, new Change.Remove("n1"));
    assertEquals(3, r.log().lastIndex());
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    r.run(AppendEntriesResponse.success(1, "n3", 2)); // the majority of {n2, n3} in force: both (4.2.2)
    assertEquals(2, r.status().commitIndex());
    assertInstanceOf(Leader.class, r.behavior(), "the removal is not committed: it still leads (4.2.2)");
    assertFalse(inbox.hasMessages());
    r.run(AppendEntriesResponse.success(1, "n2", 3));
    r.run(AppendEntriesResponse.success(1, "n3", 3));
    assertEquals(3, r.status().commitIndex());
    assertInstanceOf(ChangeMembershipResponse.Done.class, inbox.receiveMessage());
    assertInstanceOf(Follower.class, r.behavior());
  }

  // 4.1: a change not known to be committed when its leader is deposed may still commit under the next leader; the
  // operator is told so, rather than left waiting.
  @Test
  void aDeposedLeaderTellsThePendingChangeItMayStillCommit() {
    Replica r = leader();
    TestInbox<ChangeMembershipResponse> inbox = change(r, new Change.AddLearner(N4));
    r.run(new AppendEntries(2, "n2", 2, 1, List.of(), 1));
    assertInstanceOf(Follower.class, r.behavior());
    Failed failed = assertInstanceOf(Failed.class, inbox.receiveMessage());
    assertEquals(Reason.LEADERSHIP_LOST, failed.reason());
    assertTrue(failed.message().contains("change at index 2"), failed.message());
  }

  // 4.2.1: only learners are promoted: heartbeats to caught-up voters append no configuration entry.
  @Test
  void caughtUpVotersAreNotPromotedAgain() {
    Replica r = leader();
    for (String peer : r.peers) r.run(AppendEntriesResponse.success(1, peer, 1));
    ticks(r, 3);
    r.runSelf();
    assertEquals(1, r.log().lastIndex(), "nothing appended");
    assertEquals(THREE, state(r).configuration());
  }

  // 4.2.1: the catch-up round must end within an election timeout (300 ms = 6 heartbeats here): a round that
  // takes exactly that long promotes the learner; one heartbeat more starts another round.
  @ParameterizedTest(name = "round answered after {0} more heartbeats: promoted {1}")
  @CsvSource({"4,true", "5,true", "6,false"})
  void aRoundOfExactlyAnElectionTimeoutIsQuickEnough(int silentTicks, boolean promoted) {
    Replica r = leaderWithCommittedLearner();
    ticks(r, silentTicks);
    assertEquals(2, r.log().lastIndex());
    r.run(AppendEntriesResponse.success(1, "n4", 2));
    r.run(HeartbeatTick.INSTANCE);
    r.runSelf();
    assertEquals(promoted, state(r).configuration().isVoter("n4"));
    assertEquals(promoted ? 3 : 2, r.log().lastIndex());
  }
}
