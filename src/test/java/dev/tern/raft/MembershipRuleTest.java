package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.Configuration.Server;
import dev.tern.raft.RaftFixtures.AppendEntriesTo;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.Change;
import dev.tern.raft.RaftMessage.ChangeMembership;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse.Failed;
import dev.tern.raft.RaftMessage.ChangeMembershipResponse.Reason;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Membership changes: Ongaro's dissertation, chapter 4 (single-server changes, learners, removal). */
class MembershipRuleTest {
  static final Configuration THREE = Configuration.ofVoters(List.of("n1", "n2", "n3"));
  static final Server N4 = new Server("n4", "127.0.0.1", 7104, 8104, false);

  /** Leader n1 of term 1 in {n1, n2, n3}, its no-op (entry 1) committed: it may change the configuration. */
  static Replica leader() {
    return leader(THREE);
  }

  static Replica leader(Configuration bootstrap) {
    Replica r = new Replica("n1", bootstrap, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    r.electLeader();
    for (String peer : r.peers) r.run(AppendEntriesResponse.success(1, peer, 1));
    assertEquals(1, r.status().commitIndex());
    r.transport.drain();
    return r;
  }

  static ReplicaState state(Replica r) {
    return r.behavior().s;
  }

  /** Asks for a change and lets the leader flush what it appended. */
  static TestInbox<ChangeMembershipResponse> change(Replica r, Change change) {
    TestInbox<ChangeMembershipResponse> inbox = TestInbox.create();
    r.run(new ChangeMembership(change, inbox.getRef()));
    r.runSelf();
    return inbox;
  }

  static List<AppendEntries> appendsTo(Replica r, String peer) {
    return r.appendsSent().stream().filter(a -> a.to().equals(peer)).map(AppendEntriesTo::ae).toList();
  }

  // 4.1 and 4.2.1: an added server joins as a learner; the configuration entry is in force as soon as it is in the
  // leader's log (not when committed), the learner is replicated to, its acknowledgements never count for commit,
  // and the change is answered only once committed.
  @Test
  void anAddedServerIsALearnerInForceAtOnceReplicatedToButNotCounted() {
    Replica r = leader();
    TestInbox<ChangeMembershipResponse> inbox = change(r, new Change.AddLearner(N4));
    Configuration expected = THREE.with(N4);
    assertEquals(expected, state(r).configuration(), "in force once in the log (4.1)");
    assertEquals(LogEntry.config(2, 1, expected), r.log().get(2));
    assertFalse(appendsTo(r, "n4").isEmpty(), "the learner is replicated to");
    assertFalse(inbox.hasMessages(), "answered only once committed");

    r.run(AppendEntriesResponse.success(1, "n4", 2));
    assertEquals(1, r.status().commitIndex(), "a learner's acknowledgement does not count (4.2.1)");
    assertFalse(inbox.hasMessages());

    r.run(AppendEntriesResponse.success(1, "n2", 2));
    assertEquals(2, r.status().commitIndex());
    assertEquals(new ChangeMembershipResponse.Done(expected, 2), inbox.receiveMessage());
    assertEquals(expected, r.status().configuration());
    assertEquals(2, r.status().configurationIndex());
  }

  static Stream<Arguments> refusals() {
    return Stream.of(
        Arguments.of("a member at other addresses", new Change.AddLearner(new Server("n2", "10.0.0.2", 1, 2, false)),
            Reason.ALREADY_MEMBER),
        Arguments.of("an unknown member", new Change.Remove("n9"), Reason.UNKNOWN_MEMBER));
  }

  // 4.1: a change that makes no sense is refused at once, with the reason, and nothing is appended.
  @ParameterizedTest(name = "{0}")
  @MethodSource("refusals")
  void aChangeThatMakesNoSenseIsRefusedAndAppendsNothing(String name, Change change, Reason reason) {
    Replica r = leader();
    ChangeMembershipResponse answer = change(r, change).receiveMessage();
    assertEquals(reason, assertInstanceOf(Failed.class, answer).reason());
    assertEquals(1, r.log().lastIndex());
    assertEquals(THREE, state(r).configuration());
  }

  // 4.1: adding a server that is already there with the same addresses changes nothing, and says so at once.
  @Test
  void addingAServerAgainWithTheSameAddressesIsDoneWithoutAnEntry() {
    Replica r = leader(THREE.with(N4));
    ChangeMembershipResponse answer = change(r, new Change.AddLearner(N4)).receiveMessage();
    assertEquals(new ChangeMembershipResponse.Done(THREE.with(N4), 0), answer);
    assertEquals(1, r.log().lastIndex());
  }

  // 4.1: a cluster keeps at least one voter.
  @Test
  void theLastVoterCannotBeRemoved() {
    Configuration one = Configuration.ofVoters(List.of("n1"));
    Replica r = new Replica("n1", one, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    r.run(RaftMessage.ElectionTimeout.INSTANCE); // alone, it wins at once and commits its no-op
    assertInstanceOf(Leader.class, r.behavior());
    assertEquals(1, r.status().commitIndex());
    ChangeMembershipResponse answer = change(r, new Change.Remove("n1")).receiveMessage();
    assertEquals(Reason.LAST_VOTER, assertInstanceOf(Failed.class, answer).reason());
  }

  // 4.1: one change at a time; the next only once the previous one is committed.
  @Test
  void aSecondChangeWaitsUntilTheFirstIsCommitted() {
    Replica r = leader();
    TestInbox<ChangeMembershipResponse> first = change(r, new Change.AddLearner(N4));
    ChangeMembershipResponse second = change(r, new Change.Remove("n3")).receiveMessage();
    assertEquals(Reason.IN_PROGRESS, assertInstanceOf(Failed.class, second).reason());
    assertEquals(2, r.log().lastIndex(), "nothing appended for the refused change");

    r.run(AppendEntriesResponse.success(1, "n2", 2));
    assertInstanceOf(ChangeMembershipResponse.Done.class, first.receiveMessage());
    TestInbox<ChangeMembershipResponse> third = change(r, new Change.Remove("n3"));
    assertEquals(3, r.log().lastIndex(), "once committed, the next change is appended");
    assertFalse(third.hasMessages());
  }

  // Ongaro, raft-dev 2015 ("bug in single-server membership changes"): a leader changes the configuration only
  // once it has committed an entry of its own term.
  @Test
  void aNewLeaderChangesNothingBeforeItCommitsAnEntryOfItsTerm() {
    Replica r = new Replica("n1", THREE, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    r.electLeader(); // its no-op is not acknowledged yet
    ChangeMembershipResponse answer = change(r, new Change.AddLearner(N4)).receiveMessage();
    Failed failed = assertInstanceOf(Failed.class, answer);
    assertEquals(Reason.IN_PROGRESS, failed.reason());
    assertTrue(failed.message().contains("has not yet committed an entry of its term"), failed.message());
    assertEquals(1, r.log().lastIndex());
  }

  // Only the leader changes the configuration; others name the leader they know.
  @Test
  void aFollowerAnswersNotLeaderWithItsLeader() {
    Replica r = new Replica("n1", THREE, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    r.run(new AppendEntries(1, "n2", 0, 0, List.of(), 0));
    assertEquals(new ChangeMembershipResponse.NotLeader("n2"), change(r, new Change.Remove("n3")).receiveMessage());
  }

  // 4.1: a removed server stops counting as soon as the change is in the leader's log: the new majority is of the
  // new configuration, and the removed server's acknowledgement does not count.
  @Test
  void aRemovedServerStopsCountingAtOnce() {
    Replica r = leader();
    TestInbox<ChangeMembershipResponse> inbox = change(r, new Change.Remove("n3"));
    assertEquals(Configuration.ofVoters(List.of("n1", "n2")), state(r).configuration());
    r.run(AppendEntriesResponse.success(1, "n3", 2));
    assertEquals(1, r.status().commitIndex(), "n3's acknowledgement no longer counts; n1 and n2 are the majority");
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    assertEquals(2, r.status().commitIndex());
    assertInstanceOf(ChangeMembershipResponse.Done.class, inbox.receiveMessage());
    r.transport.drain();
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    assertTrue(appendsTo(r, "n3").isEmpty(), "once the removal is committed the leader forgets n3");
  }

  // 4.2.2: a leader that removes itself manages the cluster without counting itself until the change commits, then
  // steps down; a server that is no longer a voter never starts an election (4.2.3).
  @Test
  void aLeaderThatRemovesItselfStepsDownOnceCommittedAndDoesNotCampaign() {
    Replica r = leader();
    TestInbox<ChangeMembershipResponse> inbox = change(r, new Change.Remove("n1"));
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    assertEquals(1, r.status().commitIndex(), "the leader does not count itself: n2 alone is no majority of {n2, n3}");
    assertInstanceOf(Leader.class, r.behavior(), "it leads until the change commits");
    r.run(AppendEntriesResponse.success(1, "n3", 2));
    assertEquals(2, r.status().commitIndex());
    assertInstanceOf(ChangeMembershipResponse.Done.class, inbox.receiveMessage());
    assertInstanceOf(Follower.class, r.behavior(), "steps down once the change is committed (4.2.2)");
    assertNull(r.status().leaderId());

    r.transport.drain();
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertInstanceOf(Follower.class, r.behavior());
    assertTrue(r.transport.drain().isEmpty(), "a removed server asks nobody for votes");
  }

  static Stream<Arguments> nonVoters() {
    return Stream.of(
        Arguments.of("a node joining with no configuration", Configuration.EMPTY),
        Arguments.of("a learner", THREE.with(new Server("n1", "", 0, 0, false))),
        Arguments.of("a server not in the configuration", Configuration.ofVoters(List.of("n2", "n3"))));
  }

  // 4.2.1 and 4.2.3: only a voter of the configuration in force starts elections (or pre-votes).
  @ParameterizedTest(name = "{0}")
  @MethodSource("nonVoters")
  void aNonVoterNeverStartsAnElection(String name, Configuration config) {
    for (boolean preVote : new boolean[] {false, true}) {
      Replica r = new Replica("n1", config, TestSettings.DEFAULTS.withPreVote(preVote), new InMemoryStorage(), 1);
      r.effects();
      r.run(RaftMessage.ElectionTimeout.INSTANCE);
      assertInstanceOf(Follower.class, r.behavior());
      assertEquals(0, r.status().term());
      assertTrue(r.transport.drain().isEmpty());
      assertEquals(1, RaftFixtures.electionTimers(r.effects()).size(), "it keeps waiting for a leader");
    }
  }

  // 4.1, 4.2.1: elections are decided by a majority of the voters in force; learners are not asked and their
  // votes do not count.
  @Test
  void onlyVotersVotes() {
    Configuration config = THREE.with(N4).with(new Server("n5", "", 0, 0, false));
    Replica r = new Replica("n1", config, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    List<CapturingTransport.Sent> sent = r.transport.drain();
    assertEquals(List.of("n2", "n3"), sent.stream().map(CapturingTransport.Sent::to).sorted().toList());
    r.run(new RequestVoteResponse(1, "n4", true));
    r.run(new RequestVoteResponse(1, "n5", true));
    assertInstanceOf(Candidate.class, r.behavior(), "two learners' votes and its own are no majority of 3 voters");
    r.run(new RequestVoteResponse(1, "n2", true));
    assertInstanceOf(Leader.class, r.behavior());
  }

  // 4.2.1: the leader promotes a learner that has caught up: the last round of replication ended within an
  // election timeout (here 300 ms = 6 heartbeats). A slow round starts another; a quick one promotes.
  @Test
  void aLearnerIsPromotedOnlyAfterARoundThatEndsWithinAnElectionTimeout() {
    Replica r = leader();
    change(r, new Change.AddLearner(N4));
    r.run(AppendEntriesResponse.success(1, "n2", 2)); // the learner's entry commits
    for (int i = 0; i < 8; i++) r.run(RaftMessage.HeartbeatTick.INSTANCE); // n4 answers nothing for 8 ticks
    r.run(AppendEntriesResponse.success(1, "n4", 2));
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    assertEquals(2, r.log().lastIndex(), "a round that took 9 heartbeats is too slow: another round starts");
    assertFalse(state(r).configuration().isVoter("n4"));
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    r.runSelf();
    assertEquals(3, r.log().lastIndex(), "the next round ended at once: promoted");
    assertEquals(THREE.with(N4).promote("n4"), r.log().get(3).configuration());
    assertTrue(state(r).configuration().isVoter("n4"));
    // Now a voter: its acknowledgement counts, and a majority of {n1..n4} is 3.
    r.run(AppendEntriesResponse.success(1, "n4", 3));
    assertEquals(2, r.status().commitIndex());
    r.run(AppendEntriesResponse.success(1, "n2", 3));
    assertEquals(3, r.status().commitIndex());
  }

  // 4.2.1 and 6.4: a learner's answer does not confirm a read index; a voter's does.
  @Test
  void aLearnersAnswerDoesNotConfirmARead() {
    Replica r = leader(THREE.with(N4));
    TestInbox<RaftMessage.ReadIndexResponse> reads = TestInbox.create();
    r.run(new RaftMessage.ReadIndex(reads.getRef()));
    List<AppendEntriesTo> sent = r.appendsSent();
    long round = sent.get(0).ae().readRound();
    assertTrue(round > 0);
    r.run(AppendEntriesResponse.success(1, "n4", 1).forRound(round));
    assertFalse(reads.hasMessages(), "n4 is a learner");
    r.run(AppendEntriesResponse.success(1, "n3", 1).forRound(round));
    assertEquals(new RaftMessage.ReadIndexResponse.Ok(1), reads.receiveMessage());
  }

  // 4.1: a server uses the latest configuration in its log, committed or not, and falls back to the previous one
  // when a conflicting suffix holding it is truncated.
  @Test
  void aFollowerUsesItsLatestConfigurationAndFallsBackWhenItIsTruncated() {
    Replica r = new Replica("n1", THREE, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    Configuration withN4 = THREE.with(N4);
    r.run(new AppendEntries(1, "n2", 0, 0, List.of(LogEntry.noop(1, 1), LogEntry.config(2, 1, withN4)), 0));
    assertEquals(withN4, state(r).configuration(), "in force before it is committed");
    assertEquals(0, r.status().commitIndex());
    r.run(new AppendEntries(2, "n3", 1, 1, List.of(LogEntry.noop(2, 2)), 0));
    assertEquals(THREE, state(r).configuration(), "the entry holding it was truncated");
    assertEquals(0, r.status().configurationIndex());
  }

  // 4.1 with section 7: a restarted server finds its configuration in its log (and in its snapshot).
  @Test
  void aRestartedServerReadsItsConfigurationFromItsLog() {
    InMemoryStorage st = new InMemoryStorage();
    Configuration withN4 = THREE.with(N4);
    st.submit(new RaftStorage.Write(new HardState(1, null), 0, List.of(LogEntry.noop(1, 1), LogEntry.config(2, 1, withN4))));
    Replica r = new Replica("n1", THREE, TestSettings.DEFAULTS, st, 1);
    assertEquals(withN4, r.status().configuration());
    assertEquals(2, r.status().configurationIndex());
  }

  // Dissertation 5.1 / section 7: a snapshot records the configuration in force at its last included index; a
  // follower that installs one takes it over, and the addresses a snapshot lacks come from the bootstrap list.
  @Test
  void anInstalledSnapshotBringsItsConfiguration() {
    Configuration bootstrap = new Configuration(List.of(
        new Server("n1", "h1", 1, 2, true), new Server("n2", "h2", 3, 4, true), new Server("n3", "h3", 5, 6, true)));
    Replica r = new Replica("n1", bootstrap, TestSettings.DEFAULTS, new InMemoryStorage(), 1);
    Configuration snapConfig = Configuration.ofVoters(List.of("n1", "n2")).with(N4);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try {
      EntryListCodec.write(out, RaftFixtures.log(1, 1, 1));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    byte[] data = out.toByteArray();
    r.run(new RaftMessage.InstallSnapshot(1, "n2", 3, 1, snapConfig, 0, data, true));
    r.runSelf();
    Configuration expected = new Configuration(List.of(
        new Server("n1", "h1", 1, 2, true), new Server("n2", "h2", 3, 4, true), N4));
    assertEquals(expected, r.status().configuration());
    assertEquals(3, r.status().configurationIndex());
  }

  // Dissertation 5.1 / Figure 13: a snapshot the leader sends carries the configuration in force at its index whole,
  // learners and addresses included (a learner must not take itself for a voter after installing it).
  @Test
  void aSnapshotSentToALearnerCarriesTheConfigurationWhole() {
    Configuration config = THREE.with(N4);
    Replica r = new Replica("n1", config, TestSettings.DEFAULTS.withSnapshots(100, 0, 16), new InMemoryStorage(), 1);
    r.electLeader();
    for (int i = 0; i < 8; i++) r.propose("command-" + i);
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 9));
    r.runSelf();
    assertTrue(r.log().baseIndex() > 1, "compacted");
    for (int tick = 0; tick < 4; tick++) {
      r.run(RaftMessage.HeartbeatTick.INSTANCE);
      r.runSelf();
      for (CapturingTransport.Sent sent : r.transport.drain()) {
        if (sent.to().equals("n4") && sent.message() instanceof RaftMessage.InstallSnapshot is) {
          assertEquals(config, is.configuration());
          return;
        }
      }
    }
    throw new AssertionError("no snapshot sent to the learner n4");
  }

  // 4.2.3 with 9.6: a removed server that did not learn of its removal times out and asks for pre-votes; servers
  // that hear from the leader refuse, so it cannot disrupt the cluster.
  @Test
  void aRemovedServersPreVoteIsRefusedWhileTheLeaderIsHeardFrom() {
    Replica r = new Replica("n1", Configuration.ofVoters(List.of("n1", "n2")), TestSettings.SHIPPED,
        new InMemoryStorage(), 1);
    r.run(new AppendEntries(1, "n2", 0, 0, List.of(), 0));
    r.transport.drain();
    RequestVoteResponse answer = r.onlyReply(new RequestVote(2, "n3", 5, 1, true), RequestVoteResponse.class);
    assertFalse(answer.voteGranted());
    assertEquals(1, r.status().term(), "its term is unchanged");
  }

  // Stall reports (CommitWatch) name the servers that lack entries; a learner's lag is shown as not voting, since it
  // cannot be why nothing commits.
  @Test
  void aStallReportMarksLearnersAsNotVoting() {
    Replica r = new Replica("n1", THREE.with(N4),
        TestSettings.DEFAULTS.withCommitStallTimeout(java.time.Duration.ofMillis(100)), new InMemoryStorage(), 1);
    r.electLeader();
    for (int i = 0; i < 4; i++) r.run(RaftMessage.HeartbeatTick.INSTANCE);
    String stall = r.status().commitStall();
    assertTrue(stall != null && stall.contains("n4 (not voting) has 0") && stall.contains("n2 has 0"), stall);
  }

  // 4.1: the node is told the configuration in force at start and at every change, truncations included (it routes
  // to its peers by it).
  @Test
  void theNodeIsToldEveryChangeOfTheConfigurationInForce() {
    List<Configuration> told = new java.util.ArrayList<>();
    var kit = org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit.create(RaftReplica.createReporting("n1", THREE,
        TestSettings.DEFAULTS, new InMemoryStorage(), new RecordingStateMachine(), new CapturingTransport(),
        new java.util.Random(1), told::add));
    Configuration withN4 = THREE.with(N4);
    kit.run(new AppendEntries(1, "n2", 0, 0, List.of(LogEntry.noop(1, 1), LogEntry.config(2, 1, withN4)), 0));
    kit.run(new AppendEntries(1, "n2", 2, 1, List.of(LogEntry.command(3, 1, new byte[] {1})), 0));
    kit.run(new AppendEntries(2, "n3", 1, 1, List.of(LogEntry.noop(2, 2)), 0));
    assertEquals(List.of(THREE, withN4, THREE), told, "start, the new entry, the truncation; nothing for a command");
  }
}
