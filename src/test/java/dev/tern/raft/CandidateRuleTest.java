package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.FOUR_PEERS;
import static dev.tern.raft.RaftFixtures.electionTimers;
import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.GatedStorage;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.ElectionTimeout;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;

/** Candidate rules: Figure 2 "Rules for Servers / Candidates", section 5.2. */
class CandidateRuleTest {

  private static Map<String, RaftMessage.PeerMessage> sentByPeer(Replica r) {
    return r.transport.drain().stream()
        .collect(Collectors.toMap(CapturingTransport.Sent::to, CapturingTransport.Sent::message));
  }

  // Section 5.2 / Figure 2 Candidates: on conversion, increment currentTerm, vote for self (persisted), reset
  // the election timer, send RequestVote (with our last log index and term) to all other servers.
  @Test
  void electionTimeoutStartsAnElection() {
    InMemoryStorage st = storage(2, "n3", 1, 2);
    Replica r = replica(st);
    r.effects();
    r.run(ElectionTimeout.INSTANCE);

    assertInstanceOf(Candidate.class, r.behavior());
    assertEquals(new HardState(3, "n1"), st.hardState());
    RequestVote expected = new RequestVote(3, "n1", 2, 2);
    assertEquals(Map.of("n2", expected, "n3", expected), sentByPeer(r));
    assertEquals(1, electionTimers(r.effects()).size(), "candidate must re-arm its election timer");
  }

  // Figure 2 persistence + section 5.2: the RequestVotes leave only once the new term and self-vote are
  // durable, and the self-vote is counted only then.
  @Test
  void requestVotesWaitForTheSelfVoteToBeDurable() {
    GatedStorage st = new GatedStorage(2, null, 1);
    Replica r = replica(st);
    r.run(ElectionTimeout.INSTANCE);
    assertEquals(new HardState(3, "n1"), st.inner.hardState());
    assertTrue(r.transport.drain().isEmpty(), "RequestVote sent before term and vote were durable");
    r.run(new RequestVoteResponse(3, "n2", true));
    assertInstanceOf(Candidate.class, r.behavior(), "won with a self-vote that was not yet durable");

    r.run(new RaftMessage.StorageSynced(st.syncAll()));
    assertInstanceOf(Leader.class, r.behavior());
  }

  // Section 5.2: a candidate wins with votes from a majority of the full cluster: 2 of 3 (itself + one).
  @Test
  void becomesLeaderWithTwoOfThreeVotes() {
    Replica r = replica(storage(0, null));
    r.run(ElectionTimeout.INSTANCE);
    r.run(new RequestVoteResponse(1, "n2", true));
    assertInstanceOf(Leader.class, r.behavior());
    assertEquals(RaftMessage.Role.LEADER, r.status().role());
  }

  // Section 5.2: 3 of 5 wins; 2 of 5 (a minority) does not.
  @Test
  void becomesLeaderWithThreeOfFiveButNotWithTwo() {
    Replica r = replica(storage(0, null), FOUR_PEERS);
    r.run(ElectionTimeout.INSTANCE);
    r.run(new RequestVoteResponse(1, "n2", true));
    r.run(new RequestVoteResponse(1, "n3", false));
    r.run(new RequestVoteResponse(1, "n4", false));
    assertInstanceOf(Candidate.class, r.behavior(), "2 of 5 is not a majority");
    r.run(new RequestVoteResponse(1, "n5", true));
    assertInstanceOf(Leader.class, r.behavior());
  }

  // Section 5.2: a majority of *servers* - repeated grants from the same server count once.
  @Test
  void duplicateGrantsFromOneServerCountOnce() {
    Replica r = replica(storage(0, null), FOUR_PEERS);
    r.run(ElectionTimeout.INSTANCE);
    r.run(new RequestVoteResponse(1, "n2", true));
    r.run(new RequestVoteResponse(1, "n2", true));
    r.run(new RequestVoteResponse(1, "n2", true));
    assertInstanceOf(Candidate.class, r.behavior());
  }

  // Section 5.2: only votes for this term's election count; a grant left over from an earlier election does
  // not.
  @Test
  void grantsFromAnEarlierTermDoNotCount() {
    Replica r = replica(storage(0, null));
    r.run(ElectionTimeout.INSTANCE); // term 1
    r.run(ElectionTimeout.INSTANCE); // split vote: term 2
    r.run(new RequestVoteResponse(1, "n2", true));
    assertInstanceOf(Candidate.class, r.behavior());
    assertEquals(2, r.status().term());
  }

  // Section 5.2: "If the leader's term is at least as large as the candidate's current term, then the
  // candidate recognizes the leader as legitimate and returns to follower state."
  @Test
  void returnsToFollowerOnAppendEntriesOfItsOwnTerm() {
    InMemoryStorage st = storage(2, null, 1);
    Replica r = replica(st);
    r.run(ElectionTimeout.INSTANCE);
    r.transport.drain();
    r.run(new AppendEntries(3, "n2", 1, 1, List.of(), 0));
    assertInstanceOf(Follower.class, r.behavior());
    assertEquals("n2", r.status().leaderId());
    assertEquals(3, r.status().term());
    assertEquals(new HardState(3, "n1"), st.hardState(), "same term: the vote is kept");
    assertEquals(Map.of("n2", AppendEntriesResponse.success(3, "n1", 1)), sentByPeer(r));
  }

  // Section 5.2: an AppendEntries of an older term is rejected and the candidate continues.
  @Test
  void rejectsAppendEntriesOfAnOlderTermAndStaysCandidate() {
    Replica r = replica(storage(2, null, 1));
    r.run(ElectionTimeout.INSTANCE);
    r.transport.drain();
    r.run(new AppendEntries(2, "n2", 1, 1, List.of(), 0));
    assertInstanceOf(Candidate.class, r.behavior());
    AppendEntriesResponse resp = (AppendEntriesResponse) sentByPeer(r).get("n2");
    assertFalse(resp.success());
    assertEquals(3, resp.term());
  }

  // Section 5.2: a candidate has voted for itself, so it refuses other candidates of its term.
  @Test
  void refusesOtherCandidatesOfItsTerm() {
    Replica r = replica(storage(2, null, 1));
    r.run(ElectionTimeout.INSTANCE);
    r.transport.drain();
    r.run(new RequestVote(3, "n2", 9, 2));
    assertEquals(Map.of("n2", new RequestVoteResponse(3, "n1", false)), sentByPeer(r));
    assertInstanceOf(Candidate.class, r.behavior());
  }

  // Section 5.2: "If election timeout elapses: start new election" - term + 1, fresh self-vote, new requests.
  @Test
  void startsANewElectionOnElectionTimeout() {
    InMemoryStorage st = storage(2, null, 1);
    Replica r = replica(st);
    r.run(ElectionTimeout.INSTANCE);
    r.run(new RequestVoteResponse(3, "n2", false));
    r.transport.drain();
    r.effects();

    r.run(ElectionTimeout.INSTANCE);
    assertInstanceOf(Candidate.class, r.behavior());
    assertEquals(new HardState(4, "n1"), st.hardState());
    RequestVote expected = new RequestVote(4, "n1", 1, 1);
    assertEquals(Map.of("n2", expected, "n3", expected), sentByPeer(r));
    assertEquals(1, electionTimers(r.effects()).size());
  }

  // Section 5.1 (clients): a candidate knows no leader; it refuses proposals without a hint.
  @Test
  void candidateRefusesProposalsWithoutAHint() {
    Replica r = replica(storage(2, null, 1));
    r.run(ElectionTimeout.INSTANCE);
    TestInbox<RaftMessage.ProposeResponse> inbox = TestInbox.create();
    r.run(new RaftMessage.Propose(RaftFixtures.bytes("x"), inbox.getRef()));
    assertEquals(new RaftMessage.ProposeResponse.NotLeader(null), inbox.receiveMessage());
    assertEquals(1, r.log().lastIndex());
  }

  // Section 5.2: a majority of a 4-server cluster is 3: a candidate with 2 votes (half) has not won.
  @Test
  void inAFourServerClusterTwoVotesAreNotAMajority() {
    Replica r = replica(storage(0, null), List.of("n2", "n3", "n4"));
    r.run(ElectionTimeout.INSTANCE);
    r.run(new RequestVoteResponse(1, "n2", true));
    assertInstanceOf(Candidate.class, r.behavior(), "won with 2 of 4");
    assertEquals(RaftMessage.Role.CANDIDATE, r.status().role());
    r.run(new RequestVoteResponse(1, "n3", true));
    assertInstanceOf(Leader.class, r.behavior());
  }

  // Figure 13 step 1 and section 5.2: a candidate refuses an InstallSnapshot of an older term (with its term),
  // and recognises one of its own term as coming from the leader: it becomes a follower of that leader.
  @Test
  void candidateRefusesAStaleInstallSnapshotAndFollowsTheLeaderOfItsTerm() {
    Replica r = replica(storage(2, null));
    r.run(ElectionTimeout.INSTANCE); // term 3
    r.transport.drain();
    RaftMessage.InstallSnapshotResponse refused = r.onlyReply(
        new RaftMessage.InstallSnapshot(2, "n2", 5, 2, List.of("n1", "n2", "n3"), 0, new byte[] {1}, false),
        RaftMessage.InstallSnapshotResponse.class);
    assertEquals(new RaftMessage.InstallSnapshotResponse(3, "n1", 5, 0, false), refused);
    assertInstanceOf(Candidate.class, r.behavior());

    r.run(new RaftMessage.InstallSnapshot(3, "n2", 5, 2, List.of("n1", "n2", "n3"), 0, new byte[] {1}, false));
    assertInstanceOf(Follower.class, r.behavior());
    assertEquals("n2", r.status().leaderId());
  }

  // Dissertation 9.6: a pre-candidate is still in its old term and has not voted in it: it may grant a real
  // candidate of that term its vote, and then follows (it no longer runs its own election).
  @Test
  void aPreCandidateThatGrantsARealVoteBecomesAFollower() {
    InMemoryStorage st = storage(2, null, 1);
    Replica r = replica(st, TestSettings.SHIPPED.withPreVote(true));
    r.run(ElectionTimeout.INSTANCE);
    r.transport.drain();
    assertInstanceOf(Candidate.class, r.behavior());
    RequestVoteResponse granted = r.onlyReply(new RequestVote(2, "n2", 1, 1), RequestVoteResponse.class);
    assertTrue(granted.voteGranted());
    assertEquals(new HardState(2, "n2"), st.hardState());
    assertInstanceOf(Follower.class, r.behavior());
  }

  // Section 6 (client interaction): a candidate knows no leader, so it refuses reads without a hint.
  @Test
  void candidateRefusesReadsWithoutAHint() {
    Replica r = replica(storage(0, null));
    r.run(ElectionTimeout.INSTANCE);
    TestInbox<RaftMessage.ReadIndexResponse> inbox = TestInbox.create();
    r.run(new RaftMessage.ReadIndex(inbox.getRef()));
    assertEquals(new RaftMessage.ReadIndexResponse.NotLeader(null), inbox.receiveMessage());
  }
}
