package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.GatedStorage;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.junit.jupiter.api.Test;

/** RequestVote receiver rules: Figure 2 "RequestVote RPC", sections 5.2 and 5.4.1. */
class VoteRuleTest {

  private static RequestVoteResponse vote(Replica r, RequestVote rv) {
    return r.onlyReply(rv, RequestVoteResponse.class);
  }

  // Figure 2, RequestVote receiver 1: reply false if term < currentTerm (and tell the candidate our term).
  @Test
  void rejectsCandidateWithLowerTerm() {
    InMemoryStorage st = storage(3, null, 1, 2);
    Replica r = replica(st);
    RequestVoteResponse resp = vote(r, new RequestVote(2, "n2", 10, 2));
    assertFalse(resp.voteGranted());
    assertEquals(3, resp.term());
    assertNull(st.hardState().votedFor());
    assertEquals(3, st.hardState().currentTerm());
  }

  // Figure 2, RequestVote receiver 2 / section 5.2: each server votes for at most one candidate in a term.
  @Test
  void rejectsWhenAlreadyVotedForAnotherCandidateInTerm() {
    InMemoryStorage st = storage(3, "n3", 1);
    Replica r = replica(st);
    RequestVoteResponse resp = vote(r, new RequestVote(3, "n2", 5, 2));
    assertFalse(resp.voteGranted());
    assertEquals("n3", st.hardState().votedFor());
  }

  // Section 5.2: the first vote in a term decides it; a second candidate of that term is refused.
  @Test
  void firstComeFirstServedWithinATerm() {
    InMemoryStorage st = storage(2, null, 1);
    Replica r = replica(st);
    assertTrue(vote(r, new RequestVote(3, "n2", 1, 1)).voteGranted());
    assertFalse(vote(r, new RequestVote(3, "n3", 1, 1)).voteGranted());
    assertEquals(new HardState(3, "n2"), st.hardState());
  }

  // Figure 2, RequestVote receiver 2: "votedFor is null or candidateId" - a repeated request (e.g. a retry
  // after a lost reply) from the candidate we voted for is granted again.
  @Test
  void grantsAgainToTheSameCandidate() {
    InMemoryStorage st = storage(3, null, 1);
    Replica r = replica(st);
    assertTrue(vote(r, new RequestVote(3, "n2", 1, 1)).voteGranted());
    assertTrue(vote(r, new RequestVote(3, "n2", 1, 1)).voteGranted());
    assertEquals(new HardState(3, "n2"), st.hardState());
  }

  // Section 5.4.1: a log whose last entry has an older term is less up-to-date, however long it is.
  @Test
  void rejectsCandidateWhoseLastLogTermIsOlder() {
    InMemoryStorage st = storage(3, null, 1, 1, 2);
    Replica r = replica(st);
    RequestVoteResponse resp = vote(r, new RequestVote(3, "n2", 10, 1));
    assertFalse(resp.voteGranted());
    assertNull(st.hardState().votedFor());
  }

  // Section 5.4.1: with equal last terms, the longer log is more up-to-date.
  @Test
  void rejectsCandidateWithEqualLastTermButShorterLog() {
    InMemoryStorage st = storage(3, null, 1, 2, 2);
    Replica r = replica(st);
    assertFalse(vote(r, new RequestVote(3, "n2", 2, 2)).voteGranted());
    assertNull(st.hardState().votedFor());
  }

  // Section 5.4.1: the later last term wins even when that log is shorter.
  @Test
  void grantsCandidateWithLaterLastTermEvenIfShorter() {
    InMemoryStorage st = storage(3, null, 1, 1, 1, 1);
    Replica r = replica(st);
    assertTrue(vote(r, new RequestVote(3, "n2", 1, 2)).voteGranted());
    assertEquals(new HardState(3, "n2"), st.hardState());
  }

  // Section 5.4.1: with equal last terms, a log at least as long is at least as up-to-date (equal and longer).
  @Test
  void grantsCandidateWithSameLastTermAndEqualOrLongerLog() {
    Replica equal = replica(storage(3, null, 1, 2, 2));
    assertTrue(vote(equal, new RequestVote(3, "n2", 3, 2)).voteGranted());
    Replica longer = replica(storage(3, null, 1, 2, 2));
    assertTrue(vote(longer, new RequestVote(3, "n2", 7, 2)).voteGranted());
  }

  // Section 5.4.1 on an empty log: any candidate is at least as up-to-date.
  @Test
  void emptyLogGrantsToEmptyCandidate() {
    Replica r = replica(new InMemoryStorage());
    assertTrue(vote(r, new RequestVote(1, "n2", 0, 0)).voteGranted());
  }

  // Figure 2, "Persistent state ... updated on stable storage before responding to RPCs": the vote is
  // written, and the reply waits until that write is durable.
  @Test
  void grantedVoteIsPersistedBeforeTheReplyIsSent() {
    GatedStorage st = new GatedStorage(2, null, 1);
    Replica r = replica(st);
    r.run(new RequestVote(3, "n2", 1, 1));
    assertEquals(new HardState(3, "n2"), st.inner.hardState(), "vote must be submitted to storage");
    assertTrue(r.transport.drain().isEmpty(), "reply left before the vote was durable");

    r.run(new RaftMessage.StorageSynced(st.syncAll()));
    List<CapturingTransport.Sent> sent = r.transport.drain();
    assertEquals(1, sent.size());
    assertEquals(new RequestVoteResponse(3, "n1", true), sent.get(0).message());
  }

  // Same rule seen from the transport: at the moment a grant is sent, storage already holds the vote.
  @Test
  void storageHoldsTheVoteWhenTheGrantIsSent() {
    InMemoryStorage st = storage(2, null, 1);
    List<HardState> atSend = new ArrayList<>();
    PeerTransport transport = (to, m) -> atSend.add(st.hardState());
    BehaviorTestKit<RaftMessage> kit =
        BehaviorTestKit.create(
            RaftReplica.create(
                "n1", List.of("n2", "n3"), TestSettings.DEFAULTS, st, new RecordingStateMachine(), transport,
                new Random(1)));
    kit.run(new RequestVote(3, "n2", 1, 1));
    assertEquals(List.of(new HardState(3, "n2")), atSend);
  }

  // Section 5.2 / Figure 2 persistent state: votedFor survives a crash, so a restarted server cannot vote
  // twice in one term.
  @Test
  void restartedReplicaDoesNotVoteForAnotherCandidateInTheSameTerm() {
    InMemoryStorage st = storage(2, null, 1);
    Replica before = replica(st);
    assertTrue(vote(before, new RequestVote(3, "n2", 1, 1)).voteGranted());

    Replica after = replica(st); // crash and restart on the same storage
    assertEquals(3, after.status().term());
    assertFalse(vote(after, new RequestVote(3, "n3", 5, 1)).voteGranted());
    assertTrue(vote(after, new RequestVote(3, "n2", 1, 1)).voteGranted());
    assertEquals(new HardState(3, "n2"), st.hardState());
  }

  // Figure 2, "All Servers": a newer term clears the old vote, so a server that voted in term 3 may vote in 4.
  @Test
  void newerTermFreesTheVote() {
    InMemoryStorage st = storage(3, "n3", 1);
    Replica r = replica(st);
    assertTrue(vote(r, new RequestVote(4, "n2", 1, 1)).voteGranted());
    assertEquals(new HardState(4, "n2"), st.hardState());
  }
}
