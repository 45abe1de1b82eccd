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
import dev.tern.raft.RaftMessage.ReadIndexResponse;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * CheckQuorum (dissertation 6.2; etcd's checkQuorum): a leader that has not heard from a majority of the voters,
 * itself included, within an election timeout steps down; and with it, a server that hears from a leader ignores
 * RequestVotes of a higher term (dissertation 4.2.3), unless they come from a leadership transfer (3.10). The
 * shipped timing: election-timeout-max 600 ms, heartbeat 50 ms, so the window is 12 heartbeat ticks.
 */
class CheckQuorumRuleTest {
  private static final RaftSettings CHECK_QUORUM = TestSettings.DEFAULTS.withCheckQuorum(true);
  private static final int WINDOW_TICKS = 12;

  private static Replica leader(RaftSettings settings, List<String> peers) {
    Replica r = new Replica("n1", peers, settings, new InMemoryStorage(), new RecordingStateMachine(), 1);
    r.electLeader();
    return r;
  }

  private static void ticks(Replica r, int n) {
    for (int i = 0; i < n; i++) r.run(HeartbeatTick.INSTANCE);
  }

  /** 6.2: heard from nobody for a whole window: the leader steps down, keeping its term, and says why. */
  @Test
  void aLeaderThatHearsFromNoMajorityForAnElectionTimeoutStepsDown() {
    Replica r = leader(CHECK_QUORUM, RaftFixtures.TWO_PEERS);
    long term = r.status().term();
    ticks(r, WINDOW_TICKS - 1);
    assertInstanceOf(Leader.class, r.behavior(), "not before the window ends");
    r.run(HeartbeatTick.INSTANCE);
    assertInstanceOf(Follower.class, r.behavior());
    RaftMessage.Status status = r.status();
    assertEquals(term, status.term(), "stepping down for silence does not change the term");
    assertNull(status.leaderId(), "it no longer names itself leader");
    assertNotNull(status.quorumLost());
    assertTrue(status.quorumLost().endsWith("heard from 1 of 3 voters (itself included) in the last 600 ms"),
        status.quorumLost());
  }

  /** The window counts the leader itself: one answering follower of two makes a majority of three; of four, not. */
  @ParameterizedTest(name = "{0} peers, {1} answering: leader = {2}")
  @CsvSource({"2, 1, true", "2, 0, false", "4, 2, true", "4, 1, false"})
  void aMajorityOfAnswersInEachWindowKeepsTheLeader(int peerCount, int answering, boolean staysLeader) {
    List<String> peers = peerCount == 2 ? RaftFixtures.TWO_PEERS : RaftFixtures.FOUR_PEERS;
    Replica r = leader(CHECK_QUORUM, peers);
    long term = r.status().term();
    for (int window = 0; window < 3 && r.behavior() instanceof Leader; window++) {
      for (int tick = 0; tick < WINDOW_TICKS; tick++) {
        for (String peer : peers.subList(0, answering)) r.run(AppendEntriesResponse.success(term, peer, 0));
        r.run(HeartbeatTick.INSTANCE);
      }
    }
    assertEquals(staysLeader, r.behavior() instanceof Leader);
  }

  /** A follower that answered in an earlier window but not in this one does not count for this one. */
  @Test
  void onlyAnswersWithinTheWindowCount() {
    Replica r = leader(CHECK_QUORUM, RaftFixtures.TWO_PEERS);
    long term = r.status().term();
    r.run(AppendEntriesResponse.success(term, "n2", 0));
    ticks(r, WINDOW_TICKS);
    assertInstanceOf(Leader.class, r.behavior(), "n2 answered in the first window");
    ticks(r, WINDOW_TICKS - 1);
    assertInstanceOf(Leader.class, r.behavior(), "the second window is not over");
    ticks(r, 1);
    assertInstanceOf(Follower.class, r.behavior(), "nobody answered in the second");
    assertTrue(r.status().quorumLost().endsWith("in the last 600 ms"), r.status().quorumLost());
  }

  /** Figure 2 without CheckQuorum: the same silence leaves the leader in place. */
  @Test
  void withoutCheckQuorumASilentLeaderStays() {
    Replica r = leader(TestSettings.DEFAULTS, RaftFixtures.TWO_PEERS);
    ticks(r, WINDOW_TICKS * 5);
    assertInstanceOf(Leader.class, r.behavior());
    assertNull(r.status().quorumLost());
  }

  /** Stepping down answers the reads the leader held (dissertation 6.4): nobody waits on a leader that is gone. */
  @Test
  void steppingDownAnswersPendingReadsNotLeader() {
    Replica r = leader(CHECK_QUORUM, RaftFixtures.TWO_PEERS);
    long term = r.status().term();
    r.run(AppendEntriesResponse.success(term, "n2", 1)); // commits the no-op, so reads can start
    TestInbox<ReadIndexResponse> read = TestInbox.create();
    r.run(new RaftMessage.ReadIndex(read.getRef()));
    assertTrue(read.getAllReceived().isEmpty(), "not confirmed without a round");
    ticks(r, WINDOW_TICKS * 2);
    assertInstanceOf(Follower.class, r.behavior());
    assertInstanceOf(ReadIndexResponse.NotLeader.class, read.receiveMessage());
  }

  /** The node that lost its quorum says so until it hears from a leader again. */
  @Test
  void hearingFromANewLeaderClearsTheLostQuorum() {
    Replica r = leader(CHECK_QUORUM, RaftFixtures.TWO_PEERS);
    long term = r.status().term();
    ticks(r, WINDOW_TICKS);
    assertNotNull(r.status().quorumLost());
    r.run(new AppendEntries(term + 1, "n2", 1, term, List.of(), 1));
    assertNull(r.status().quorumLost());
    assertEquals("n2", r.status().leaderId());
  }

  /** The lost quorum is also cleared by a new leader's InstallSnapshot (Figure 13), like by its AppendEntries. */
  @Test
  void aNewLeadersSnapshotClearsTheLostQuorum() {
    Replica r = leader(CHECK_QUORUM, RaftFixtures.TWO_PEERS);
    long term = r.status().term();
    ticks(r, WINDOW_TICKS);
    assertNotNull(r.status().quorumLost());
    r.run(new RaftMessage.InstallSnapshot(term + 1, "n3", 0, 0, List.of("n1", "n2", "n3"), 0, new byte[0], true));
    assertNull(r.status().quorumLost());
    assertEquals("n3", r.status().leaderId());
  }

  /** The lease only concerns higher terms: a RequestVote of the follower's own term is answered as Figure 2 says. */
  @Test
  void aFollowerHearingFromItsLeaderStillAnswersAVoteOfItsOwnTerm() {
    Replica r = replica(RaftFixtures.storage(2, null, 1, 2), CHECK_QUORUM);
    r.run(new AppendEntries(2, "n2", 2, 2, List.of(), 2));
    r.transport.drain();
    assertTrue(r.onlyReply(new RequestVote(2, "n3", 5, 2), RequestVoteResponse.class).voteGranted());
  }

  /** 4.2.3: a follower hearing from its leader ignores a higher term's RequestVote: no reply, no new term. */
  @Test
  void aFollowerHearingFromItsLeaderIgnoresAHigherTermsVote() {
    Replica r = replica(RaftFixtures.storage(2, null, 1, 2), CHECK_QUORUM);
    r.run(new AppendEntries(2, "n2", 2, 2, List.of(), 2));
    r.transport.drain();
    r.run(new RequestVote(3, "n3", 5, 2));
    assertTrue(r.transport.drain().isEmpty(), "ignored, not even refused");
    assertEquals(2, r.status().term());
    assertEquals("n2", r.status().leaderId());
  }

  /** 3.10: the same vote, marked as a transfer's, is heard: the follower moves to its term and grants it. */
  @Test
  void aFollowerHearingFromItsLeaderStillGrantsATransfersVote() {
    Replica r = replica(RaftFixtures.storage(2, null, 1, 2), CHECK_QUORUM);
    r.run(new AppendEntries(2, "n2", 2, 2, List.of(), 2));
    r.transport.drain();
    RequestVoteResponse reply = r.onlyReply(new RequestVote(3, "n3", 5, 2, false, true), RequestVoteResponse.class);
    assertTrue(reply.voteGranted());
    assertEquals(3, r.status().term());
  }

  /** Once its election timer fired without a leader, the follower is out of the lease and hears any candidate. */
  @Test
  void aFollowerWhoseTimerFiredHearsAnyCandidate() {
    Replica r = replica(RaftFixtures.storage(2, null, 1, 2), CHECK_QUORUM.withPreVote(true));
    r.run(new AppendEntries(2, "n2", 2, 2, List.of(), 2));
    r.run(RaftMessage.ElectionTimeout.INSTANCE); // now pre-voting, heardFromLeader cleared
    r.transport.drain();
    assertTrue(r.onlyReply(new RequestVote(3, "n3", 5, 2), RequestVoteResponse.class).voteGranted());
  }

  /** Without CheckQuorum the follower hears every candidate, as Figure 2 says. */
  @Test
  void withoutCheckQuorumAFollowerHearsEveryCandidate() {
    Replica r = replica(RaftFixtures.storage(2, null, 1, 2), TestSettings.DEFAULTS);
    r.run(new AppendEntries(2, "n2", 2, 2, List.of(), 2));
    r.transport.drain();
    assertTrue(r.onlyReply(new RequestVote(3, "n3", 5, 2), RequestVoteResponse.class).voteGranted());
  }

  /** A leader answered by a majority lately ignores a higher term's vote; one that was not, steps down for it. */
  @ParameterizedTest(name = "n2 answered this window: {0}")
  @CsvSource({"true", "false"})
  void aLeaderIgnoresAHigherTermsVoteOnlyWhileAMajorityAnswersIt(boolean answered) {
    Replica r = leader(CHECK_QUORUM, RaftFixtures.TWO_PEERS);
    long term = r.status().term();
    ticks(r, 1);
    if (answered) r.run(AppendEntriesResponse.success(term, "n2", 1));
    ticks(r, WINDOW_TICKS - 2);
    r.transport.drain();
    r.run(new RequestVote(term + 1, "n3", 9, term));
    if (answered) {
      assertInstanceOf(Leader.class, r.behavior());
      assertTrue(r.transport.drain(RequestVoteResponse.class).isEmpty());
      assertEquals(term, r.status().term());
    } else {
      assertInstanceOf(Follower.class, r.behavior());
      assertEquals(term + 1, r.status().term());
    }
  }
}
