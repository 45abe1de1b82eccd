package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.CapturedLogEvent;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.event.Level;

/**
 * Messages a role has no use for (Figure 2: each role answers only its own RPCs): late replies and stale timers are
 * dropped quietly, since they are routine after every change of role (the roles warn of anything else, which
 * today no message of the sealed protocol is). Requests meant for a leader are answered NotLeader by the others. Logs: one line per event that matters, at
 * the level it deserves.
 */
class IgnoredMessagesRuleTest {
  static final SnapshotMeta META = new SnapshotMeta(3, 1, List.of("n1", "n2", "n3"));

  /** Late replies and stale timers, of term 1 (never newer than the replica's, so none makes it step down). */
  static Stream<RaftMessage> routine() {
    return Stream.of(
        new RequestVoteResponse(1, "n2", false),
        AppendEntriesResponse.success(1, "n2", 1),
        RaftMessage.HeartbeatTick.INSTANCE,
        RaftMessage.Flush.INSTANCE,
        new RaftMessage.InstallSnapshotResponse(1, "n2", 3, 0, false),
        new RaftMessage.SnapshotChunkRead("n2", META, 0, new RaftStorage.Chunk(new byte[0], 0)));
  }

  /** The same, plus what only a follower acts on. */
  static Stream<RaftMessage> routineForACandidate() {
    return Stream.concat(routine(), Stream.of(
        new RaftMessage.TimeoutNow(1, "n2"),
        new RaftMessage.SnapshotChunkWritten("n2", 1, META, new RaftStorage.ChunkWritten(0, null))));
  }

  private static long warnings(Replica r) {
    List<CapturedLogEvent> all = r.kit.getAllLogEntries();
    return all.stream().filter(e -> e.level() == Level.WARN).count();
  }

  /** Follower n1 in term 1 that heard from leader n2. */
  private static Replica follower() {
    Replica r = RaftFixtures.replica(new InMemoryStorage());
    r.run(new RaftMessage.AppendEntries(1, "n2", 0, 0, List.of(), 0));
    r.kit.clearLog();
    r.transport.drain();
    return r;
  }

  /** Candidate n1 in term 1 (no pre-vote), no votes but its own. */
  private static Replica candidate() {
    Replica r = RaftFixtures.replica(new InMemoryStorage());
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertInstanceOf(Candidate.class, r.behavior());
    r.kit.clearLog();
    r.transport.drain();
    return r;
  }

  @ParameterizedTest
  @MethodSource("routine")
  void aFollowerDropsRoutineMessagesQuietly(RaftMessage m) {
    Replica r = follower();
    r.run(m);
    assertInstanceOf(Follower.class, r.behavior());
    assertEquals(0, warnings(r), m.toString());
    assertTrue(r.transport.drain().isEmpty());
  }

  @ParameterizedTest
  @MethodSource("routineForACandidate")
  void aCandidateDropsRoutineMessagesQuietly(RaftMessage m) {
    Replica r = candidate();
    r.run(m);
    assertInstanceOf(Candidate.class, r.behavior());
    assertEquals(0, warnings(r), m.toString());
  }

  // Only the leader changes the configuration (dissertation 4.1): a candidate knows no leader to name.
  @Test
  void aCandidateAnswersAChangeWithNotLeader() {
    Replica r = candidate();
    TestInbox<RaftMessage.ChangeMembershipResponse> inbox = TestInbox.create();
    r.run(new RaftMessage.ChangeMembership(new RaftMessage.Change.Remove("n3"), inbox.getRef()));
    assertEquals(new RaftMessage.ChangeMembershipResponse.NotLeader(null), inbox.receiveMessage());
    assertEquals(0, warnings(r));
  }

  // Dissertation 9.6: a pre-vote that fails repeats every election timeout while peers are unreachable, so it is
  // told at DEBUG; a real election that times out is worth a line at INFO.
  @Test
  void onlyARealElectionsTimeoutIsLoggedAtInfo() {
    Replica real = candidate();
    real.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertTrue(logged(real, Level.INFO, "election in term 1 timed out"));
    Replica pre = new Replica("n1", RaftFixtures.TWO_PEERS, TestSettings.DEFAULTS.withPreVote(true),
        new InMemoryStorage(), new RecordingStateMachine(), 1);
    pre.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertInstanceOf(Candidate.class, pre.behavior());
    pre.kit.clearLog();
    pre.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertTrue(logged(pre, Level.DEBUG, "pre-vote in term 1 timed out"));
    assertTrue(pre.kit.getAllLogEntries().stream().noneMatch(e -> e.level() == Level.INFO && e.message().contains("timed out")));
  }

  // A leader has no election timer; a late one (from before it won) is nothing to warn about.
  @Test
  void aLeaderDropsALateElectionTimeoutQuietly() {
    Replica r = RaftFixtures.replica(new InMemoryStorage());
    r.electLeader();
    r.kit.clearLog();
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertInstanceOf(Leader.class, r.behavior());
    assertEquals(0, warnings(r));
    r.run(RaftMessage.TransferTimeout.INSTANCE);
    r.run(new RaftMessage.TimeoutNow(1, "n2"));
    assertInstanceOf(Leader.class, r.behavior());
  }

  private static boolean logged(Replica r, Level level, String text) {
    return r.kit.getAllLogEntries().stream().anyMatch(e -> e.level() == level && e.message().contains(text));
  }
}
