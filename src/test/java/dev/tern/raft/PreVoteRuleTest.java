package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.replica;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pre-vote, Ongaro's dissertation section 9.6. */
class PreVoteRuleTest {
  private static final RaftSettings PRE_VOTE = TestSettings.SHIPPED.withPreVote(true);

  private static Replica preVoting(InMemoryStorage storage) {
    return replica(storage, PRE_VOTE);
  }

  /** A timed-out follower asks for pre-votes in term+1 without changing its own term or vote. */
  @Test
  void electionTimeoutStartsAPreVoteThatChangesNoPersistentState() {
    InMemoryStorage storage = RaftFixtures.storage(3, null, 1, 2);
    Replica r = preVoting(storage);
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    List<RequestVote> asks = r.transport.drain(RequestVote.class);
    assertEquals(2, asks.size());
    for (RequestVote rv : asks) {
      assertTrue(rv.preVote());
      assertEquals(4, rv.term());
      assertEquals(2, rv.lastLogIndex());
    }
    assertEquals(new HardState(3, null), storage.hardState(), "nothing persisted for a pre-vote");
    assertEquals(3, r.status().term());
  }

  /** A majority of pre-votes starts the real election (term + 1, self-vote, RequestVote to all). */
  @Test
  void aMajorityOfPreVotesStartsTheRealElection() {
    InMemoryStorage storage = new InMemoryStorage();
    Replica r = preVoting(storage);
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    r.transport.drain();
    r.run(new RequestVoteResponse(1, "n2", true, true)); // granted pre-votes carry the term asked about
    assertEquals(1, r.status().term());
    assertEquals(new HardState(1, "n1"), storage.hardState());
    List<RequestVote> real = r.transport.drain(RequestVote.class);
    assertEquals(2, real.size());
    assertFalse(real.get(0).preVote());
  }

  /** Pre-vote requests never change the receiver's term, granted or not. */
  @Test
  void aPreVoteRequestIsGrantedWithoutChangingTermWhenNoLeaderIsHeard() {
    InMemoryStorage storage = RaftFixtures.storage(2, null, 1, 2);
    Replica r = preVoting(storage);
    var reply = r.onlyReply(new RequestVote(3, "n2", 2, 2, true), RequestVoteResponse.class);
    assertTrue(reply.voteGranted() && reply.preVote());
    assertEquals(3, reply.term());
    assertEquals(2, r.status().term());
    assertEquals(new HardState(2, null), storage.hardState());
  }

  /** A follower that hears from its leader refuses pre-votes: a returning node cannot disrupt the cluster. */
  @Test
  void aFollowerHearingFromItsLeaderRefusesPreVotes() {
    Replica r = preVoting(RaftFixtures.storage(2, null, 1, 2));
    r.onlyReply(new AppendEntries(2, "n3", 2, 2, List.of(), 2), RaftMessage.AppendEntriesResponse.class);
    var reply = r.onlyReply(new RequestVote(3, "n2", 5, 2, true), RequestVoteResponse.class);
    assertFalse(reply.voteGranted());
    assertEquals(2, reply.term());
    assertEquals(2, r.status().term(), "and its term stays");
    assertInstanceOf(Follower.class, r.behavior());
  }

  /** The up-to-date rule of 5.4.1 holds for pre-votes too. */
  @Test
  void aPreVoteForAStaleLogIsRefused() {
    Replica r = preVoting(RaftFixtures.storage(2, null, 1, 2));
    assertFalse(r.onlyReply(new RequestVote(3, "n2", 1, 1, true), RequestVoteResponse.class).voteGranted());
  }

  @Test
  void aLeaderRefusesPreVotes() {
    Replica r = replica(new InMemoryStorage(), PRE_VOTE);
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    r.run(new RequestVoteResponse(1, "n2", true, true));
    r.run(new RequestVoteResponse(1, "n2", true));
    assertInstanceOf(Leader.class, r.behavior());
    r.transport.drain();
    assertFalse(r.onlyReply(new RequestVote(2, "n3", 9, 1, true), RequestVoteResponse.class).voteGranted());
    assertInstanceOf(Leader.class, r.behavior());
  }

  /** A granted pre-vote names a future term and must not depose anyone; a refusal with a newer term does. */
  @Test
  void onlyARefusalWithANewerTermMakesThePreCandidateFollow() {
    Replica r = preVoting(RaftFixtures.storage(2, null, 1, 2));
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    r.run(new RequestVoteResponse(5, "n2", false, true));
    assertEquals(5, r.status().term());
    assertInstanceOf(Follower.class, r.behavior());
  }

  /**
   * Dissertation 9.6: a pre-vote asks "would you vote for me in the next term?". A pre-vote naming a term we are
   * already in is no election that could start: it is refused, with our term, however up to date its log.
   */
  @Test
  void aPreVoteForTheCurrentTermIsRefused() {
    InMemoryStorage storage = RaftFixtures.storage(3, null, 1, 2);
    Replica r = preVoting(storage);
    var reply = r.onlyReply(new RequestVote(3, "n2", 5, 3, true), RequestVoteResponse.class);
    assertFalse(reply.voteGranted());
    assertTrue(reply.preVote());
    assertEquals(3, reply.term());
    assertEquals(new HardState(3, null), storage.hardState());
  }
}
