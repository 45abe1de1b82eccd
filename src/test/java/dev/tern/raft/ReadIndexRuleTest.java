package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.replica;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.ReadIndex;
import dev.tern.raft.RaftMessage.ReadIndexResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;

/** ReadIndex, Ongaro's dissertation section 6.4: linearizable reads without writing to the log. */
class ReadIndexRuleTest {

  /** A leader of a 3-node cluster whose no-op (index 1) is committed, with n2's acknowledgement. */
  private static Replica committedLeader() {
    Replica leader = replica(new InMemoryStorage());
    leader.electLeader();
    leader.run(AppendEntriesResponse.success(1, "n2", 1));
    assertEquals(1, leader.status().commitIndex());
    leader.transport.drain();
    return leader;
  }

  private static TestInbox<ReadIndexResponse> read(Replica r) {
    TestInbox<ReadIndexResponse> inbox = TestInbox.create();
    r.run(new ReadIndex(inbox.getRef()));
    return inbox;
  }

  /** 6.4 step 3: the read index is confirmed only after a majority answers a heartbeat sent after the read. */
  @Test
  void readIsAnsweredAfterAMajorityAcknowledgesANewRound() {
    Replica leader = committedLeader();
    TestInbox<ReadIndexResponse> inbox = read(leader);
    List<RaftFixtures.AppendEntriesTo> round = leader.appendsSent();
    assertEquals(2, round.size(), "a heartbeat to every follower");
    long r = round.get(0).ae().readRound();
    assertTrue(r > 0);
    assertFalse(inbox.hasMessages(), "not before any follower answered");

    // An answer to an older request proves nothing about now.
    leader.run(AppendEntriesResponse.success(1, "n2", 1).forRound(r - 1));
    assertFalse(inbox.hasMessages());
    leader.run(AppendEntriesResponse.success(1, "n2", 1).forRound(r));
    assertEquals(new ReadIndexResponse.Ok(1), inbox.receiveMessage());
  }

  /** 6.4 step 1: a new leader first commits an entry of its term, so that it knows the commit index. */
  @Test
  void newLeaderWaitsForItsFirstCommitBeforeChoosingAReadIndex() {
    Replica leader = replica(new InMemoryStorage());
    leader.electLeader();
    TestInbox<ReadIndexResponse> inbox = read(leader);
    assertFalse(inbox.hasMessages());
    leader.transport.drain();
    leader.run(AppendEntriesResponse.success(1, "n2", 1)); // commits the no-op
    long r = leader.appendsSent().stream().mapToLong(a -> a.ae().readRound()).max().orElse(0);
    assertTrue(r > 0, "a confirmation round starts once it has committed");
    leader.run(AppendEntriesResponse.success(1, "n3", 1).forRound(r));
    assertEquals(new ReadIndexResponse.Ok(1), inbox.receiveMessage());
  }

  /** Reads arriving while a round is in flight share the next round; no log entry is written for them. */
  @Test
  void readsArrivingTogetherShareOneRoundAndWriteNothing() {
    Replica leader = committedLeader();
    long lastIndex = leader.log().lastIndex();
    TestInbox<ReadIndexResponse> first = read(leader);
    long r1 = leader.appendsSent().get(0).ae().readRound();
    TestInbox<ReadIndexResponse> second = read(leader);
    TestInbox<ReadIndexResponse> third = read(leader);
    assertTrue(leader.appendsSent().isEmpty(), "later reads wait for the round in flight to finish");
    leader.run(AppendEntriesResponse.success(1, "n3", 1).forRound(r1));
    assertEquals(new ReadIndexResponse.Ok(1), first.receiveMessage());
    long r2 = leader.appendsSent().get(0).ae().readRound();
    assertEquals(r1 + 1, r2, "one new round for both waiting reads");
    leader.run(AppendEntriesResponse.success(1, "n2", 1).forRound(r2));
    assertEquals(new ReadIndexResponse.Ok(1), second.receiveMessage());
    assertEquals(new ReadIndexResponse.Ok(1), third.receiveMessage());
    assertEquals(lastIndex, leader.log().lastIndex(), "reads write nothing to the log");
  }

  /** A deposed leader cannot confirm its reads: it answers NotLeader instead of an unsafe index. */
  @Test
  void pendingReadsFailWhenTheLeaderStepsDown() {
    Replica leader = committedLeader();
    TestInbox<ReadIndexResponse> inbox = read(leader);
    leader.run(new RaftMessage.AppendEntries(2, "n3", 1, 1, List.of(), 1));
    assertEquals(new ReadIndexResponse.NotLeader(null), inbox.receiveMessage());
  }

  @Test
  void followerSendsReadsToTheLeaderItKnows() {
    Replica follower = replica(new InMemoryStorage());
    follower.run(new RaftMessage.AppendEntries(1, "n2", 0, 0, List.of(), 0));
    assertEquals(new ReadIndexResponse.NotLeader("n2"), read(follower).receiveMessage());
  }

  /** Followers echo the round of the request they answer, accepted or not. */
  @Test
  void followerEchoesTheReadRound() {
    Replica follower = replica(new InMemoryStorage());
    var ok = follower.onlyReply(new RaftMessage.AppendEntries(1, "n2", 0, 0, List.of(), 0, 7), AppendEntriesResponse.class);
    assertEquals(7, ok.readRound());
    var rejected = follower.onlyReply(new RaftMessage.AppendEntries(1, "n2", 5, 1, List.of(), 0, 8), AppendEntriesResponse.class);
    assertFalse(rejected.success());
    assertEquals(8, rejected.readRound());
  }

  /**
   * 6.4 step 3 in a 5-node cluster: acknowledgements of exactly the read's round count (a follower that answered
   * the very heartbeat the read started is part of the majority), and the read is answered, once, with the
   * commit index it was given, as soon as itself and two followers have answered: not before.
   */
  @Test
  void acknowledgementsOfExactlyTheReadsRoundMakeTheMajority() {
    Replica leader = replica(new InMemoryStorage(), RaftFixtures.FOUR_PEERS);
    leader.electLeader();
    leader.run(AppendEntriesResponse.success(1, "n2", 1));
    leader.run(AppendEntriesResponse.success(1, "n3", 1)); // the no-op commits with 3 of 5
    assertEquals(1, leader.status().commitIndex());
    leader.transport.drain();

    TestInbox<ReadIndexResponse> inbox = read(leader);
    List<RaftFixtures.AppendEntriesTo> round = leader.appendsSent();
    assertEquals(4, round.size(), "a heartbeat to every follower");
    long r = round.get(0).ae().readRound();
    for (RaftFixtures.AppendEntriesTo a : round) assertEquals(r, a.ae().readRound());

    leader.run(AppendEntriesResponse.success(1, "n4", 1).forRound(r));
    assertFalse(inbox.hasMessages(), "2 of 5 is not a majority");
    leader.run(AppendEntriesResponse.success(1, "n5", 1).forRound(r));
    assertEquals(List.of(new ReadIndexResponse.Ok(1)), inbox.getAllReceived(), "answered once, at 3 of 5");
    leader.run(AppendEntriesResponse.success(1, "n2", 1).forRound(r));
    assertFalse(inbox.hasMessages(), "a confirmed read is not answered again");
  }

  /**
   * 6.4 step 1 then 3: a read that waited for the leader's first commit is answered once; later commits do not
   * answer it again.
   */
  @Test
  void aReadThatWaitedForTheFirstCommitIsAnsweredOnce() {
    Replica leader = replica(new InMemoryStorage());
    leader.electLeader();
    TestInbox<ReadIndexResponse> inbox = read(leader);
    leader.run(AppendEntriesResponse.success(1, "n2", 1)); // commits the no-op: the read's round starts
    long r = leader.appendsSent().stream().mapToLong(a -> a.ae().readRound()).max().orElse(0);
    leader.run(AppendEntriesResponse.success(1, "n2", 1).forRound(r));
    assertEquals(List.of(new ReadIndexResponse.Ok(1)), inbox.getAllReceived());

    leader.propose("x");
    leader.runSelf();
    leader.run(AppendEntriesResponse.success(1, "n2", 2)); // a second commit
    assertEquals(2, leader.status().commitIndex());
    long r2 = leader.appendsSent().stream().mapToLong(a -> a.ae().readRound()).max().orElse(0);
    leader.run(AppendEntriesResponse.success(1, "n3", 2).forRound(r2));
    assertFalse(inbox.hasMessages(), "the read was answered again");
  }

  /** 6.4: a single server is its own majority, so it answers a read at once with its commit index. */
  @Test
  void aSingleServerAnswersAReadAtOnce() {
    Replica solo =
        new Replica("n1", List.of(), TestSettings.DEFAULTS, new InMemoryStorage(), new RecordingStateMachine(), 1);
    solo.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertEquals(1, solo.status().commitIndex());
    assertEquals(new ReadIndexResponse.Ok(1), read(solo).receiveMessage());
  }
}
