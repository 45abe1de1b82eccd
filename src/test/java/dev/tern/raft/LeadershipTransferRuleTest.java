package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.cancelled;
import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.timers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.CapturingTransport.Sent;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.raft.RaftMessage.TimeoutNow;
import dev.tern.raft.RaftMessage.TransferLeadership;
import dev.tern.raft.RaftMessage.TransferLeadershipResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Leadership transfer (dissertation 3.10; etcd's campaignTransfer): the leader stops accepting proposals, brings
 * the target up to date, sends TimeoutNow; the target runs at once, without pre-vote, and its RequestVote says it
 * is a transfer's; the request is answered once a later term's leader is known, or fails after an election
 * timeout, when the leader takes proposals again.
 */
class LeadershipTransferRuleTest {
  private static final RaftSettings SETTINGS = TestSettings.DEFAULTS.withCheckQuorum(true);

  /** n1 leads term 1 of n1..n3; its log is the no-op at index 1, which n2 and n3 do not hold yet. */
  private static Replica leader() {
    Replica r = replica(new InMemoryStorage(), SETTINGS);
    r.electLeader();
    return r;
  }

  private static TestInbox<TransferLeadershipResponse> transfer(Replica r, String target) {
    TestInbox<TransferLeadershipResponse> inbox = TestInbox.create();
    r.run(new TransferLeadership(target, inbox.getRef()));
    return inbox;
  }

  private static List<Sent> timeoutNows(Replica r) {
    return r.transport.drain().stream().filter(s -> s.message() instanceof TimeoutNow).toList();
  }

  /** 3.10: a target that holds the whole log is told to run at once, with the leader's term. */
  @Test
  void aCaughtUpTargetGetsTimeoutNowAtOnce() {
    Replica r = leader();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    r.transport.drain();
    TestInbox<TransferLeadershipResponse> reply = transfer(r, "n2");
    assertEquals(List.of(new Sent("n2", new TimeoutNow(1, "n1"))), timeoutNows(r));
    assertFalse(reply.hasMessages(), "answered only once the new leader is known");
    assertEquals(1, timers(r.effects(), LeadershipTransfer.TIMER).size(), "the transfer has a deadline");
  }

  /** 3.10: a lagging target is first brought up to date; TimeoutNow waits for its acknowledgement of the last entry. */
  @Test
  void aLaggingTargetIsBroughtUpToDateFirst() {
    Replica r = leader();
    r.propose("x"); // index 2
    r.runSelf();
    r.transport.drain();
    transfer(r, "n3");
    assertTrue(timeoutNows(r).isEmpty());
    r.run(AppendEntriesResponse.success(1, "n3", 1));
    assertTrue(timeoutNows(r).isEmpty(), "n3 lacks index 2");
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    assertTrue(timeoutNows(r).isEmpty(), "n2 is not the target");
    r.run(AppendEntriesResponse.success(1, "n3", 2));
    assertEquals(List.of(new Sent("n3", new TimeoutNow(1, "n1"))), timeoutNows(r));
    r.run(AppendEntriesResponse.success(1, "n3", 2));
    assertTrue(timeoutNows(r).isEmpty(), "TimeoutNow goes once");
  }

  /** 3.10: while handing over, the leader takes no proposal: it answers NotLeader, and its log does not grow. */
  @Test
  void proposalsAreRefusedDuringTheTransferAndAcceptedAgainAfterItFails() {
    Replica r = leader();
    TestInbox<TransferLeadershipResponse> reply = transfer(r, "n2");
    long last = r.log().lastIndex();
    assertEquals(new ProposeResponse.NotLeader(null), r.propose("refused"));
    assertEquals(last, r.log().lastIndex());
    r.run(RaftMessage.TransferTimeout.INSTANCE);
    var failed = assertInstanceOf(TransferLeadershipResponse.Failed.class, reply.receiveMessage());
    assertEquals("n2 did not take over within 600 ms; accepting proposals again in term 1", failed.reason());
    assertInstanceOf(Leader.class, r.behavior());
    assertInstanceOf(ProposeResponse.Accepted.class, r.propose("accepted"));
  }

  /** With no target named, the most up-to-date voter is chosen. */
  @Test
  void withoutATargetTheMostUpToDateVoterIsChosen() {
    Replica r = leader();
    r.propose("x");
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    r.run(AppendEntriesResponse.success(1, "n3", 2));
    r.transport.drain();
    transfer(r, null);
    assertEquals(List.of(new Sent("n3", new TimeoutNow(1, "n1"))), timeoutNows(r));
  }

  /** Among voters equally up to date, the one that answered last is chosen (it is the likeliest to be reachable). */
  @ParameterizedTest(name = "{0} answered last")
  @ValueSource(strings = {"n2", "n3"})
  void amongEquallyUpToDateVotersTheOneHeardLastIsChosen(String last) {
    Replica r = leader();
    String first = last.equals("n2") ? "n3" : "n2";
    r.run(AppendEntriesResponse.success(1, first, 1));
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    r.run(AppendEntriesResponse.success(1, last, 1));
    r.transport.drain();
    transfer(r, null);
    assertEquals(List.of(new Sent(last, new TimeoutNow(1, "n1"))), timeoutNows(r));
  }

  /** A full tie (same matchIndex, answered in the same tick) goes to the first voter in configuration order. */
  @Test
  void aFullTieGoesToTheFirstVoter() {
    Replica r = leader();
    r.run(AppendEntriesResponse.success(1, "n3", 1));
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    r.transport.drain();
    transfer(r, null);
    assertEquals(List.of(new Sent("n2", new TimeoutNow(1, "n1"))), timeoutNows(r));
  }

  @Test
  void requestsThatCannotStartAreAnsweredAtOnce() {
    Replica r = leader();
    assertEquals(new TransferLeadershipResponse.UnknownTarget("n9"), transfer(r, "n9").receiveMessage());
    assertEquals(new TransferLeadershipResponse.Transferred("n1", 1), transfer(r, "n1").receiveMessage());
    transfer(r, "n2");
    assertInstanceOf(TransferLeadershipResponse.Refused.class, transfer(r, "n3").receiveMessage(),
        "one transfer at a time");

    Replica alone = new Replica("n1", List.of(), SETTINGS, new InMemoryStorage(), new RecordingStateMachine(), 1);
    alone.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertInstanceOf(Leader.class, alone.behavior());
    assertInstanceOf(TransferLeadershipResponse.Refused.class, transfer(alone, null).receiveMessage(), "no other voter");
  }

  /**
   * 3.10 to the end: the target's transfer vote deposes the leader (which grants it), and the request is answered
   * once the new leader's AppendEntries arrives.
   */
  @Test
  void theRequestIsAnsweredOnceTheNewLeaderIsKnown() {
    Replica r = leader();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    TestInbox<TransferLeadershipResponse> reply = transfer(r, "n2");
    r.transport.drain();
    r.effects();
    RequestVoteResponse vote = r.onlyReply(new RequestVote(2, "n2", 1, 1, false, true), RequestVoteResponse.class);
    assertTrue(vote.voteGranted());
    assertInstanceOf(Follower.class, r.behavior());
    assertFalse(reply.hasMessages());
    r.run(new AppendEntries(2, "n2", 1, 1, List.of(), 1));
    assertEquals(new TransferLeadershipResponse.Transferred("n2", 2), reply.receiveMessage());
    assertTrue(cancelled(r.effects(), LeadershipTransfer.TIMER));
    r.run(RaftMessage.TransferTimeout.INSTANCE); // a late timer changes nothing
    assertFalse(reply.hasMessages());
  }

  /**
   * The leader that started a transfer is deposed by another term, then wins a later election itself: the transfer is
   * over (answered with itself as leader), and it takes proposals again.
   */
  @Test
  void aTransferEndsWhenItsLeaderIsElectedAgain() {
    Replica r = leader();
    TestInbox<TransferLeadershipResponse> reply = transfer(r, "n2");
    r.run(AppendEntriesResponse.reject(2, "n3", 0, 0, 0)); // term 2 seen: step down
    r.run(RaftMessage.ElectionTimeout.INSTANCE); // candidate in term 3
    r.run(new RequestVoteResponse(3, "n3", true));
    assertInstanceOf(Leader.class, r.behavior());
    assertEquals(new TransferLeadershipResponse.Transferred("n1", 3), reply.receiveMessage());
    assertInstanceOf(ProposeResponse.Accepted.class, r.propose("accepted"));
  }

  /** The old leader stepped down but no new leader showed up in time: the request fails. */
  @Test
  void aTransferWithoutANewLeaderInTimeFails() {
    Replica r = leader();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    TestInbox<TransferLeadershipResponse> reply = transfer(r, "n2");
    r.run(new RequestVote(2, "n2", 1, 1, false, true));
    r.run(RaftMessage.TransferTimeout.INSTANCE);
    var failed = assertInstanceOf(TransferLeadershipResponse.Failed.class, reply.receiveMessage());
    assertEquals("this node stepped down but learned of no new leader within 600 ms", failed.reason());
  }

  /** 3.10: the target runs at once, skipping pre-vote; its RequestVote is a real one, marked as a transfer's. */
  @Test
  void aFollowerToldTimeoutNowStartsARealElectionAtOnce() {
    Replica r = replica(RaftFixtures.storage(2, null, 1, 2), SETTINGS.withPreVote(true));
    r.run(new AppendEntries(2, "n2", 2, 2, List.of(), 2));
    r.transport.drain();
    r.run(new TimeoutNow(2, "n2"));
    assertInstanceOf(Candidate.class, r.behavior());
    assertEquals(3, r.status().term());
    List<RequestVote> votes = r.transport.drain(RequestVote.class);
    assertEquals(2, votes.size());
    for (RequestVote v : votes) {
      assertEquals(new RequestVote(3, "n1", 2, 2, false, true), v);
    }
  }

  /** A TimeoutNow of an older term comes from a leader that is gone: ignored. */
  @Test
  void aStaleTimeoutNowIsIgnored() {
    Replica r = replica(RaftFixtures.storage(3, null, 1, 2), SETTINGS);
    r.run(new TimeoutNow(2, "n2"));
    assertInstanceOf(Follower.class, r.behavior());
    assertEquals(3, r.status().term());
    assertTrue(r.transport.drain().isEmpty());
  }

  /** Only the leader transfers; any other node names the leader it knows. */
  @Test
  void aFollowerAnswersNotLeaderWithItsLeader() {
    Replica r = replica(RaftFixtures.storage(2, null, 1, 2), SETTINGS);
    r.run(new AppendEntries(2, "n3", 2, 2, List.of(), 2));
    assertEquals(new TransferLeadershipResponse.NotLeader("n3"), transfer(r, "n2").receiveMessage());
  }
}
