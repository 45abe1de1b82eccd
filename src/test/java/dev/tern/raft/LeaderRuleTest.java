package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.cancelled;
import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.storage;
import static dev.tern.raft.RaftFixtures.string;
import static dev.tern.raft.RaftFixtures.timers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.AppendEntriesTo;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.ProposeResponse;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.Effect;
import org.junit.jupiter.api.Test;

/** Leader rules: Figure 2 "Rules for Servers / Leaders", sections 5.3 and 5.4.2, plus flow control. */
class LeaderRuleTest {

  private static RaftSettings settings(int maxEntries, int maxInflight) {
    return new RaftSettings(
        Duration.ofMillis(300), Duration.ofMillis(600), Duration.ofMillis(50), maxEntries, 1 << 20, maxInflight);
  }

  private static List<AppendEntries> to(String peer, List<AppendEntriesTo> sent) {
    return sent.stream().filter(s -> s.to().equals(peer)).map(AppendEntriesTo::ae).toList();
  }

  /** Elected leader of term 1 on an empty log (its no-op at index 1), with both followers' acks in. */
  private static Replica leaderInReplicateMode(RaftSettings settings) {
    Replica r = replica(new InMemoryStorage(), settings);
    r.electLeader();
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    r.run(AppendEntriesResponse.success(1, "n3", 1));
    r.transport.drain();
    return r;
  }

  // Section 5.4.2 / section 8: on election the leader appends a no-op entry of its own term and replicates it
  // to every follower, starting from its last entry (nextIndex = last log index + 1, Figure 2).
  @Test
  void appendsANoopOfItsTermOnElectionAndSendsItToAllPeers() {
    InMemoryStorage st = storage(2, null, 1, 2);
    Replica r = replica(st);
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    r.transport.drain();
    r.run(new RequestVoteResponse(3, "n2", true));
    assertInstanceOf(Leader.class, r.behavior());

    LogEntry noop = LogEntry.noop(3, 3);
    assertEquals(noop, r.log().get(3));
    assertEquals(noop, st.entries().get(2), "the no-op is written to storage");
    AppendEntries expected = new AppendEntries(3, "n1", 2, 2, List.of(noop), 0);
    Map<String, AppendEntries> sent =
        r.appendsSent().stream().collect(Collectors.toMap(AppendEntriesTo::to, AppendEntriesTo::ae));
    assertEquals(Map.of("n2", expected, "n3", expected), sent);
  }

  // Section 5.2: the leader sends periodic heartbeats; the timer runs every heartbeat-interval and the
  // election timer stops.
  @Test
  void heartbeatTimerIsScheduledAtTheHeartbeatInterval() {
    Replica r = replica(new InMemoryStorage());
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    r.effects();
    r.run(new RequestVoteResponse(1, "n2", true));
    List<Effect> effects = r.effects();
    List<Effect.TimerScheduled<?>> hb = timers(effects, ReplicaState.HEARTBEAT_TIMER);
    assertEquals(1, hb.size(), "effects: " + effects);
    assertEquals(Duration.ofMillis(50), hb.get(0).duration());
    assertEquals(TestSettings.DEFAULTS.heartbeatInterval(), hb.get(0).duration());
    assertEquals(RaftMessage.HeartbeatTick.INSTANCE, hb.get(0).msg());
    assertEquals("FixedDelayMode", hb.get(0).mode().toString(), "heartbeats must repeat");
    assertTrue(cancelled(effects, ReplicaState.ELECTION_TIMER), "a leader must not time out: " + effects);
  }

  // Section 5.2: each heartbeat tick sends an AppendEntries (asserting leadership) to every follower.
  @Test
  void heartbeatTickSendsAppendEntriesToEveryFollower() {
    Replica r = replica(new InMemoryStorage());
    r.electLeader();
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    List<AppendEntriesTo> sent = r.appendsSent();
    assertEquals(Set.of("n2", "n3"), sent.stream().map(AppendEntriesTo::to).collect(Collectors.toSet()));
    assertEquals(2, sent.size());
    for (AppendEntriesTo s : sent) assertEquals(1, s.ae().term());
  }

  // Figure 2, AppendEntries "leaderCommit": heartbeats carry the leader's commitIndex so followers apply too.
  @Test
  void heartbeatsCarryTheCommitIndex() {
    Replica r = leaderInReplicateMode(TestSettings.DEFAULTS);
    assertEquals(1, r.status().commitIndex());
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    List<AppendEntriesTo> sent = r.appendsSent();
    assertEquals(2, sent.size());
    for (AppendEntriesTo s : sent) {
      assertTrue(s.ae().entries().isEmpty());
      assertEquals(1, s.ae().leaderCommit());
      assertEquals(1, s.ae().prevLogIndex(), "anchored where the logs are known to match");
    }
  }

  // Flow control (Progress, replicate mode): the leader pipelines, keeping several AppendEntries in flight
  // to one follower before any reply - but never more than max-inflight-appends.
  @Test
  void pipelinesUpToMaxInflightAppendsAndNoMore() {
    Replica r = leaderInReplicateMode(settings(1, 3));
    for (int i = 0; i < 6; i++) r.propose("c" + i);
    r.runSelf();
    List<AppendEntries> toN2 = to("n2", r.appendsSent());
    assertEquals(3, toN2.size(), "in flight to n2: " + toN2);
    assertEquals(List.of(1L, 2L, 3L), toN2.stream().map(AppendEntries::prevLogIndex).toList());

    // One reply frees one slot: exactly one more request.
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    toN2 = to("n2", r.appendsSent());
    assertEquals(1, toN2.size());
    assertEquals(4, toN2.get(0).prevLogIndex());
  }

  // Same rule with the shipped settings (max-inflight-appends = 8): ten flushes without replies put eight
  // requests in flight, not ten.
  @Test
  void pipelineDepthWithDefaultSettingsIsEight() {
    Replica r = leaderInReplicateMode(TestSettings.DEFAULTS);
    for (int i = 0; i < 10; i++) {
      r.propose("c" + i);
      r.runSelf();
    }
    assertEquals(TestSettings.DEFAULTS.maxInflightAppends(), to("n2", r.appendsSent()).size());
  }

  // Flow control (Progress, probe mode): until a follower's match point is known the leader sends one request
  // at a time (section 5.3: nextIndex is found by trial).
  @Test
  void probesOneRequestAtATimeBeforeTheFirstSuccess() {
    Replica r = replica(new InMemoryStorage());
    r.electLeader(); // noop in flight to n2 and n3, unanswered
    for (int i = 0; i < 5; i++) {
      r.propose("c" + i);
      r.runSelf();
    }
    assertTrue(to("n2", r.appendsSent()).isEmpty(), "sent more than one probe");
  }

  // Batching: proposals that arrive before the leader's Flush are appended and replicated together, in one
  // AppendEntries per follower.
  @Test
  void proposalsBeforeTheFlushGoOutInOneAppendEntries() {
    Replica r = leaderInReplicateMode(TestSettings.DEFAULTS);
    assertEquals(new ProposeResponse.Accepted(2, 1), r.propose("a"));
    assertEquals(new ProposeResponse.Accepted(3, 1), r.propose("b"));
    assertEquals(new ProposeResponse.Accepted(4, 1), r.propose("c"));
    assertTrue(r.appendsSent().isEmpty(), "nothing is sent before the flush");
    assertEquals(1, r.kit.selfInbox().getAllReceived().size(), "one Flush for the whole batch");
    r.run(RaftMessage.Flush.INSTANCE);

    List<AppendEntriesTo> sent = r.appendsSent();
    assertEquals(2, sent.size());
    for (AppendEntriesTo s : sent) {
      assertEquals(1, s.ae().prevLogIndex());
      assertEquals(List.of("a", "b", "c"), s.ae().entries().stream().map(e -> string(e.data())).toList());
    }
  }

  // Batching is capped by max-append-entries: a larger backlog is split into requests of at most that size,
  // contiguous and in order.
  @Test
  void batchesRespectMaxAppendEntries() {
    Replica r = leaderInReplicateMode(settings(2, 8));
    for (int i = 0; i < 5; i++) r.propose("c" + i);
    r.runSelf();
    List<AppendEntries> toN2 = to("n2", r.appendsSent());
    assertEquals(List.of(2, 2, 1), toN2.stream().map(ae -> ae.entries().size()).toList());
    long next = 2;
    for (AppendEntries ae : toN2) {
      assertEquals(next - 1, ae.prevLogIndex());
      for (LogEntry e : ae.entries()) assertEquals(next++, e.index());
    }
  }

  // Section 5.1: a follower redirects clients to the leader it knows of.
  @Test
  void followerAnswersProposeWithNotLeaderAndTheLeaderHint() {
    InMemoryStorage st = storage(2, null);
    Replica r = replica(st);
    r.run(new AppendEntries(2, "n2", 0, 0, List.of(), 0));
    assertEquals(new ProposeResponse.NotLeader("n2"), r.propose("x"));
    assertTrue(r.kit.selfInbox().getAllReceived().isEmpty());
    assertEquals(0, st.entries().size(), "a follower must not append proposals");
  }

  // Figure 2 Leaders / section 5.3: an entry is committed once the leader has replicated it on a majority
  // (itself + one of two followers), and the leader then applies it.
  @Test
  void leaderAppliesACommandOnceAMajorityHasIt() {
    Replica r = replica(new InMemoryStorage());
    r.electLeader();
    r.run(AppendEntriesResponse.success(1, "n2", 1)); // the no-op
    assertEquals(1, r.status().commitIndex());
    r.transport.drain();

    r.propose("x");
    r.runSelf();
    assertEquals(1, r.status().commitIndex(), "the leader alone is not a majority");
    assertEquals(1, r.sm.applied().size());

    r.run(AppendEntriesResponse.success(1, "n2", 2)); // n3 never answers
    assertEquals(2, r.status().commitIndex());
    assertEquals(2, r.sm.applied().size());
    assertEquals("x", string(r.sm.applied().get(1).data()));
    // Followers hear about the new commitIndex at once.
    List<AppendEntriesTo> sent = r.appendsSent();
    assertTrue(sent.stream().anyMatch(s -> s.to().equals("n2") && s.ae().leaderCommit() == 2), sent.toString());
  }

  // Figure 2 Leaders: a success for an older request (lower matchIndex) never moves matchIndex back.
  @Test
  void lateSuccessDoesNotLowerMatchIndex() {
    Replica r = leaderInReplicateMode(TestSettings.DEFAULTS);
    r.propose("a");
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    r.run(AppendEntriesResponse.success(1, "n2", 1));
    assertEquals(2, ((Leader) r.behavior()).progressOf("n2").matchIndex);
    assertEquals(2, r.status().commitIndex());
  }

  // Section 5.2 with a single server: its own (durable) vote and entry are a majority.
  @Test
  void singleServerElectsItselfAndCommitsAlone() {
    Replica r =
        new Replica("n1", List.of(), TestSettings.DEFAULTS, new InMemoryStorage(), new RecordingStateMachine(), 1);
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertInstanceOf(Leader.class, r.behavior());
    r.propose("solo");
    r.runSelf();
    assertEquals(2, r.status().commitIndex());
    assertEquals("solo", string(r.sm.applied().get(1).data()));
  }

  /** Delivers the leader's AppendEntries for n2 to the follower, and its replies back; returns how many. */
  private static int pump(Replica leader, Replica n2) {
    List<AppendEntries> toN2 = to("n2", leader.appendsSent());
    for (AppendEntries ae : toN2) n2.run(ae);
    for (CapturingTransport.Sent s : n2.transport.drain()) leader.run(s.message());
    return toN2.size();
  }

  private static Replica follower(LogEntry... log) {
    InMemoryStorage st = new InMemoryStorage();
    st.submit(new RaftStorage.Write(new HardState(1, "n1"), 0, List.of(log)));
    return new Replica("n2", List.of("n1", "n3"), TestSettings.DEFAULTS, st, new RecordingStateMachine(), 2);
  }

  // Section 5.3: "If followers crash or run slowly, or if network packets are lost, the leader retries
  // AppendEntries RPCs indefinitely until all followers eventually store all log entries." Here the first
  // probe (carrying the no-op) is lost; the follower keeps answering heartbeats; the entry must still reach
  // it.
  @Test
  void lostProbeIsRetriedEvenWhileTheFollowerAnswersHeartbeats() {
    Replica leader = replica(new InMemoryStorage());
    leader.electLeader(); // the AppendEntries carrying the no-op are lost
    Replica n2 = follower();
    for (int tick = 0; tick < 10; tick++) {
      leader.run(RaftMessage.HeartbeatTick.INSTANCE);
      pump(leader, n2);
    }
    assertEquals(1, n2.log().lastIndex(), "the no-op never reached the follower");
  }

  // Section 5.3, same rule when the lost probe is above the follower's known match point (a leader with an
  // older log): the heartbeat replies (at matchIndex 0) must not be mistaken for an answer to the probe.
  @Test
  void lostProbeAboveMatchIndexIsRetriedEvenWhileTheFollowerAnswersHeartbeats() {
    Replica leader = replica(storage(1, null, 1, 1));
    leader.electLeader(); // term 2; the probe at prevLogIndex 2 carrying the no-op is lost
    InMemoryStorage st = storage(1, null, 1, 1);
    Replica n2 = new Replica("n2", List.of("n1", "n3"), TestSettings.DEFAULTS, st, new RecordingStateMachine(), 2);
    for (int tick = 0; tick < 10; tick++) {
      leader.run(RaftMessage.HeartbeatTick.INSTANCE);
      pump(leader, n2);
    }
    assertEquals(3, n2.log().lastIndex(), "the no-op never reached the follower");
    assertEquals(3, leader.status().commitIndex());
  }

  // Section 5.3, same rule in replicate mode: a lost batch is resent even if no new proposal comes along.
  @Test
  void lostBatchIsRetriedEvenWhileTheFollowerAnswersHeartbeats() {
    Replica leader = leaderInReplicateMode(TestSettings.DEFAULTS);
    leader.propose("x");
    leader.runSelf();
    leader.transport.drain(); // the batch is lost on the way to both followers
    Replica n2 = follower(LogEntry.noop(1, 1));
    for (int tick = 0; tick < 10; tick++) {
      leader.run(RaftMessage.HeartbeatTick.INSTANCE);
      pump(leader, n2);
    }
    assertEquals(2, n2.log().lastIndex(), "the lost entry never reached the follower");
    assertEquals(2, leader.status().commitIndex(), "the entry never committed");
  }

  /**
   * A follower can commit only what a request proved to match; when the commit covering its newest entry
   * went out before its acknowledgement arrived, the leader tells it at once rather than at the next tick.
   */
  @Test
  void aFollowerWhoseAckArrivesAfterTheCommitIsToldTheCommitAtOnce() {
    RaftFixtures.Replica leader = RaftFixtures.replica(new dev.tern.storage.InMemoryStorage());
    leader.electLeader();
    leader.run(RaftMessage.AppendEntriesResponse.success(1, "n2", 1));
    leader.run(RaftMessage.AppendEntriesResponse.success(1, "n3", 1));
    leader.transport.drain();
    leader.propose("x");
    leader.runSelf();
    leader.transport.drain();
    leader.run(RaftMessage.AppendEntriesResponse.success(1, "n2", 2)); // commits index 2 with n2
    assertEquals(2, leader.status().commitIndex());
    leader.transport.drain();
    leader.run(RaftMessage.AppendEntriesResponse.success(1, "n3", 2)); // n3's ack comes later
    var toN3 = leader.appendsSent().stream().filter(a -> a.to().equals("n3")).toList();
    assertEquals(1, toN3.size(), "one message tells n3 the commit");
    assertEquals(2, Math.min(toN3.get(0).ae().leaderCommit(), toN3.get(0).ae().lastIndex()));
  }

  // Figure 2 RequestVote receiver: a leader has voted for itself in its term, so another candidate of that term
  // is refused (with the leader's term), and the leader stays leader.
  @Test
  void leaderRefusesAVoteRequestOfItsOwnTerm() {
    Replica r = leaderInReplicateMode(TestSettings.DEFAULTS);
    RequestVoteResponse reply =
        r.onlyReply(new RaftMessage.RequestVote(1, "n2", 5, 1), RequestVoteResponse.class);
    assertEquals(new RequestVoteResponse(1, "n1", false), reply);
    assertInstanceOf(Leader.class, r.behavior());
  }

  // Figure 2 AppendEntries receiver step 1 and Figure 13 step 1: requests of an older term are refused with the
  // current term, so that their sender steps down; the leader keeps its role and term.
  @Test
  void leaderRefusesStaleAppendEntriesAndInstallSnapshotWithItsTerm() {
    Replica r = replica(storage(3, null));
    r.electLeader(); // term 4
    AppendEntriesResponse ae =
        r.onlyReply(new AppendEntries(3, "n2", 0, 0, List.of(), 0), AppendEntriesResponse.class);
    assertEquals(false, ae.success());
    assertEquals(4, ae.term());
    RaftMessage.InstallSnapshotResponse is = r.onlyReply(
        new RaftMessage.InstallSnapshot(3, "n2", 5, 3, List.of("n1", "n2", "n3"), 0, new byte[] {1}, true),
        RaftMessage.InstallSnapshotResponse.class);
    assertEquals(new RaftMessage.InstallSnapshotResponse(4, "n1", 5, 0, false), is);
    assertInstanceOf(Leader.class, r.behavior());
    assertEquals(4, r.status().term());
  }

  // Figure 2 Leaders: matchIndex is kept per member; a reply from a server that is not a member changes nothing.
  @Test
  void repliesFromAServerThatIsNotAMemberAreIgnored() {
    Replica r = leaderInReplicateMode(TestSettings.DEFAULTS);
    r.run(AppendEntriesResponse.success(1, "n9", 1));
    r.run(new RaftMessage.InstallSnapshotResponse(1, "n9", 1, 0, true));
    assertInstanceOf(Leader.class, r.behavior());
    assertTrue(r.transport.drain().isEmpty());
  }

  // Figure 2 Leaders / 5.3: once an entry commits, followers learn the new commitIndex at once, also one that
  // has nothing new to receive (it gets a heartbeat carrying the commit).
  @Test
  void aCommitIsToldAtOnceToAFollowerWithNothingNewToReceive() {
    Replica r = leaderInReplicateMode(settings(512, 1)); // one request in flight per follower
    r.propose("x");
    r.runSelf();
    r.transport.drain(); // entry 2 in flight to n2 and n3
    r.run(AppendEntriesResponse.success(1, "n2", 2)); // commits 2
    assertEquals(2, r.status().commitIndex());
    List<AppendEntries> toN3 = to("n3", r.appendsSent());
    assertEquals(1, toN3.size(), "n3 hears of the commit: " + toN3);
    assertEquals(2, toN3.get(0).leaderCommit());
    assertTrue(toN3.get(0).entries().isEmpty(), "a heartbeat: its window is full");
  }

  // Section 5.3 ("retries indefinitely"): a batch unanswered for two heartbeat intervals is sent again, from
  // what is known to match; one interval without an answer is not yet a loss.
  @Test
  void anUnansweredBatchIsResentAtTheSecondHeartbeat() {
    Replica r = leaderInReplicateMode(TestSettings.DEFAULTS);
    r.propose("x");
    r.runSelf();
    r.transport.drain(); // the batch (entry 2) is lost
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    List<AppendEntries> first = to("n2", r.appendsSent());
    assertTrue(first.stream().allMatch(ae -> ae.entries().isEmpty()), "only a heartbeat after one tick: " + first);
    r.run(RaftMessage.HeartbeatTick.INSTANCE);
    List<AppendEntries> second = to("n2", r.appendsSent());
    assertTrue(second.stream().anyMatch(ae -> ae.prevLogIndex() == 1 && ae.entries().size() == 1),
        "entry 2 resent at the second tick: " + second);
  }

  // A follower that rejects a heartbeat at its matchIndex because its log now ends right there lost entries it
  // had acknowledged (a replaced disk, outside Raft's model): the leader replicates to it again from its log end.
  @Test
  void aFollowerWhoseLogEndsBelowItsMatchIndexIsReplicatedToFromItsLogEnd() {
    Replica r = leaderInReplicateMode(TestSettings.DEFAULTS);
    r.propose("x");
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 2));
    r.transport.drain();
    // Heartbeat at 2 rejected: n2's log ends at 1 (conflictIndex = its last index + 1 = 2).
    r.run(AppendEntriesResponse.reject(1, "n2", 2, 2, 0));
    assertEquals(0, ((Leader) r.behavior()).progressOf("n2").matchIndex);
    List<AppendEntries> toN2 = to("n2", r.appendsSent());
    assertEquals(1, toN2.size(), toN2.toString());
    assertEquals(1, toN2.get(0).prevLogIndex());
    assertEquals(1, toN2.get(0).entries().size());
  }

  // Figure 2 "respond after persisting": a leader that steps down writes the proposals it appended in memory
  // but had not flushed yet, so that its log never runs ahead of its storage.
  @Test
  void aLeaderSteppingDownWritesTheProposalsItHeldInMemory() {
    InMemoryStorage st = new InMemoryStorage();
    Replica r = replica(st);
    r.electLeader();
    r.propose("unflushed");
    assertEquals(1, st.entries().size(), "not written before the flush");
    r.run(new RaftMessage.RequestVote(2, "n2", 0, 0)); // a newer term: steps down (and refuses: n2's log is behind)
    assertInstanceOf(Follower.class, r.behavior());
    assertEquals(2, st.entries().size());
    assertEquals("unflushed", string(st.entries().get(1).data()));
  }
}
