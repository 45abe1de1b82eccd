package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.entries;
import static dev.tern.raft.RaftFixtures.log;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.Configuration.Server;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.InstallSnapshot;
import dev.tern.storage.InMemoryStorage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Log compaction (Raft paper, section 7) and the configurations it covers (dissertation 5.1): what stays in the
 * log after a snapshot, and which configuration, at which index, is in force afterwards.
 */
class CompactionRuleTest {
  static final Configuration THREE = Configuration.ofVoters(List.of("n1", "n2", "n3"));
  static final Server N4 = new Server("n4", "127.0.0.1", 7104, 8104, false);

  private static byte[] snapshotOf(List<LogEntry> applied) {
    return EntryListCodec.bytes(applied);
  }

  private static Replica leaderWithEightCommitted(RaftSettings settings) {
    return RaftFixtures.leaderWithEightCommitted(settings);
  }

  // Section 7 with snapshot-trailing-bytes: the trailing entries kept after a snapshot may add up to the limit
  // exactly, not one byte more.
  @ParameterizedTest(name = "room for {0} entries and {1} bytes: keeps {2}")
  @CsvSource({"2,0,2", "2,-1,1", "1,0,1", "3,0,3"})
  void theTrailingEntriesMayFillTheByteLimitExactly(int entries, int extraBytes, int kept) {
    int entryBytes = LogEntry.command(1, 1, "command-0".getBytes(StandardCharsets.UTF_8)).approximateSize();
    RaftSettings settings = TestSettings.DEFAULTS.withSnapshots(100, 1000, 16)
        .withSnapshotTrailingBytes((long) entries * entryBytes + extraBytes);
    Replica r = leaderWithEightCommitted(settings);
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    assertEquals(meta.lastIncludedIndex() - kept, r.log().baseIndex());
  }

  // Section 7: with more trailing entries allowed than the log holds, the snapshot compacts nothing away.
  @Test
  void aLogShorterThanTheTrailingEntriesIsKeptWhole() {
    Replica r = leaderWithEightCommitted(TestSettings.DEFAULTS.withSnapshots(100, 1000, 16));
    assertTrue(((InMemoryStorage) r.storage).snapshot() != null, "a snapshot was taken");
    assertEquals(0, r.log().baseIndex());
    assertEquals(1, r.log().get(1).index());
    assertEquals(9, r.log().lastIndex());
  }

  // Dissertation 5.1: a snapshot replaces the configuration entries it covers. Once the entry holding the
  // configuration in force is compacted away, the configuration is the snapshot's, at the snapshot's base.
  @Test
  void aCompactedConfigurationEntryIsReplacedByTheBase() {
    Replica r = RaftFixtures.replica(new InMemoryStorage(), TestSettings.DEFAULTS.withSnapshots(100, 0, 16));
    Configuration withN4 = THREE.with(N4);
    List<LogEntry> sent = new ArrayList<>(List.of(LogEntry.noop(1, 1), LogEntry.config(2, 1, withN4)));
    for (long i = 3; i <= 9; i++) sent.add(LogEntry.command(i, 1, ("command-" + i).getBytes(StandardCharsets.UTF_8)));
    r.run(new AppendEntries(1, "n2", 0, 0, sent, 9));
    r.runSelf();
    long base = r.log().baseIndex();
    assertTrue(base > 2, "compacted past the configuration entry: base " + base);
    assertEquals(withN4, r.status().configuration());
    assertEquals(base, r.status().configurationIndex());
  }

  // Figure 13 step 6: a follower whose log holds the snapshot's last entry keeps the entries after it; the
  // configuration entries the snapshot covers are gone with the rest, the base holds the one in force.
  @Test
  void aSnapshotInstalledOverALogWithItsLastEntryKeepsTheConfigurationAtItsBase() {
    Configuration withN4 = THREE.with(N4);
    InMemoryStorage st = new InMemoryStorage();
    st.submit(new RaftStorage.Write(new HardState(1, null), 0,
        List.of(LogEntry.noop(1, 1), LogEntry.config(2, 1, withN4), LogEntry.noop(3, 1), LogEntry.noop(4, 1))));
    Replica r = RaftFixtures.replica(st);
    assertEquals(2, r.status().configurationIndex());
    byte[] data = snapshotOf(log(1, 1, 1));
    r.run(new InstallSnapshot(1, "n2", 3, 1, withN4, 0, data, true));
    r.runSelf();
    assertEquals(3, r.log().baseIndex());
    assertEquals(4, r.log().lastIndex(), "the entry after the snapshot is kept");
    assertEquals(withN4, r.status().configuration());
    assertEquals(3, r.status().configurationIndex());
  }

  // Dissertation 4.1 and 5.1: the node routes to its peers by the configuration in force, so it is told at once
  // when a leader appends a change and when an installed snapshot brings one.
  @Test
  void theNodeIsToldOfALeadersChangeAndOfASnapshotsConfiguration() {
    List<Configuration> told = new ArrayList<>();
    BehaviorTestKit<RaftMessage> kit = BehaviorTestKit.create(RaftReplica.createReporting("n1", THREE,
        TestSettings.DEFAULTS, new InMemoryStorage(), new RecordingStateMachine(), new CapturingTransport(),
        new java.util.Random(1), told::add));
    kit.run(RaftMessage.ElectionTimeout.INSTANCE);
    kit.run(new RaftMessage.RequestVoteResponse(1, "n2", true));
    kit.run(AppendEntriesResponse.success(1, "n2", 1));
    kit.run(new RaftMessage.ChangeMembership(new RaftMessage.Change.AddLearner(N4),
        org.apache.pekko.actor.testkit.typed.javadsl.TestInbox.<RaftMessage.ChangeMembershipResponse>create().getRef()));
    assertEquals(List.of(THREE, THREE.with(N4)), told, "start, then the leader's change as soon as appended");

    told.clear();
    BehaviorTestKit<RaftMessage> follower = BehaviorTestKit.create(RaftReplica.createReporting("n1", THREE,
        TestSettings.DEFAULTS, new InMemoryStorage(), new RecordingStateMachine(), new CapturingTransport(),
        new java.util.Random(1), told::add));
    Configuration two = Configuration.ofVoters(List.of("n1", "n2"));
    follower.run(new InstallSnapshot(1, "n2", 3, 1, two, 0, snapshotOf(log(1, 1, 1)), true));
    while (follower.selfInbox().hasMessages()) follower.runOne();
    assertEquals(List.of(THREE, two), told, "start, then the snapshot's configuration once installed");
  }
}
