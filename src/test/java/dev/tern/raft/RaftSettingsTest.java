package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The Raft settings: read from configuration, and refused when they would break section 5.2's timing. */
class RaftSettingsTest {
  private static final Duration MIN = Duration.ofMillis(300);
  private static final Duration MAX = Duration.ofMillis(600);
  private static final Duration HB = Duration.ofMillis(50);

  private static RaftSettings settings(Duration min, Duration max, Duration hb, int entries, long bytes, int inflight,
      long threshold, int trailing, int chunk) {
    return new RaftSettings(min, max, hb, entries, bytes, inflight, false, threshold, trailing, chunk,
        Duration.ofSeconds(5));
  }

  private static void refused(String setting, Executable build) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build);
    assertTrue(e.getMessage().startsWith("tern.raft." + setting + " "), "expected a complaint about " + setting + ": " + e.getMessage());
  }

  @Test
  void readsEveryValueFromTheConfiguration() {
    RaftSettings s = RaftSettings.fromConfig(ConfigFactory.parseString("""
        election-timeout-min = 200ms
        election-timeout-max = 400ms
        heartbeat-interval = 20ms
        max-append-entries = 7
        max-append-bytes = 1KiB
        max-inflight-appends = 3
        pre-vote = on
        snapshot-threshold = 2KiB
        snapshot-trailing-entries = 11
        install-snapshot-chunk-bytes = 4KiB
        commit-stall-timeout = 3s
        snapshot-trailing-bytes = 5KiB
        check-quorum = on
        """));
    assertEquals(new RaftSettings(Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMillis(20), 7, 1024, 3,
        true, 2048, 11, 4096, Duration.ofSeconds(3), 5120, true), s);
  }

  @Test
  void checkQuorumIsOffUnlessAskedFor() {
    RaftSettings plain = settings(MIN, MAX, HB, 1, 1, 1, 1, 0, 1);
    assertEquals(false, plain.checkQuorum());
    assertEquals(true, plain.withCheckQuorum(true).checkQuorum());
    assertEquals(false, plain.withCheckQuorum(true).withCheckQuorum(false).checkQuorum());
    // every other setting is kept
    assertEquals(plain, plain.withCheckQuorum(true).withCheckQuorum(false));
    assertEquals(true, plain.withCheckQuorum(true).withPreVote(true).withSnapshots(2, 3, 4)
        .withCommitStallTimeout(Duration.ofSeconds(9)).withSnapshotTrailingBytes(7).checkQuorum());
  }

  // Section 5.2: election timeouts must be positive and the range ordered; a follower must hear several
  // heartbeats per timeout (at most half of the minimum).
  @Test
  void refusesTimingsThatBreakElections() {
    refused("election-timeout-min", () -> settings(Duration.ofMillis(-300), MAX, Duration.ofMillis(-500), 1, 1, 1, 1, 0, 1));
    refused("election-timeout-min", () -> settings(Duration.ZERO, MAX, Duration.ZERO, 1, 1, 1, 1, 0, 1));
    refused("election-timeout-max", () -> settings(MIN, Duration.ofMillis(299), HB, 1, 1, 1, 1, 0, 1));
    refused("heartbeat-interval", () -> settings(MIN, MAX, Duration.ofMillis(151), 1, 1, 1, 1, 0, 1));
    // The edges are allowed: max = min, heartbeat = min / 2.
    RaftSettings edge = settings(MIN, MIN, Duration.ofMillis(150), 1, 1, 1, 1, 0, 1);
    assertEquals(MIN, edge.electionTimeoutMax());
  }

  @Test
  void refusesLimitsBelowTheirMinimum() {
    refused("max-append-entries", () -> settings(MIN, MAX, HB, 0, 1, 1, 1, 0, 1));
    refused("max-append-bytes", () -> settings(MIN, MAX, HB, 1, 0, 1, 1, 0, 1));
    refused("max-inflight-appends", () -> settings(MIN, MAX, HB, 1, 1, 0, 1, 0, 1));
    refused("snapshot-threshold", () -> settings(MIN, MAX, HB, 1, 1, 1, 0, 0, 1));
    refused("snapshot-trailing-entries", () -> settings(MIN, MAX, HB, 1, 1, 1, 1, -1, 1));
    refused("install-snapshot-chunk-bytes", () -> settings(MIN, MAX, HB, 1, 1, 1, 1, 0, 0));
    refused("commit-stall-timeout", () -> TestSettings.DEFAULTS.withCommitStallTimeout(Duration.ZERO));
    refused("snapshot-trailing-bytes", () -> TestSettings.DEFAULTS.withSnapshotTrailingBytes(-1));
    assertEquals(0, TestSettings.DEFAULTS.withSnapshotTrailingBytes(0).snapshotTrailingBytes());
    assertEquals(Duration.ofMillis(1), TestSettings.DEFAULTS.withCommitStallTimeout(Duration.ofMillis(1))
        .commitStallTimeout());
    RaftSettings smallest = settings(MIN, MAX, HB, 1, 1, 1, 1, 0, 1);
    assertEquals(List.of(1, 1L, 1, 1L, 0, 1), List.of(smallest.maxAppendEntries(), smallest.maxAppendBytes(),
        smallest.maxInflightAppends(), smallest.snapshotThresholdBytes(), smallest.snapshotTrailingEntries(),
        smallest.installSnapshotChunkBytes()));
  }

  // Figure 2: peers are the *other* servers; a node listed among its own peers would vote for itself twice.
  @Test
  void aReplicaCannotBeItsOwnPeer() {
    assertThrows(IllegalArgumentException.class, () -> RaftReplica.create("n1", List.of("n1", "n2"),
        TestSettings.DEFAULTS, new dev.tern.storage.InMemoryStorage(), new RecordingStateMachine(),
        new CapturingTransport(), new java.util.Random(1)));
  }
}
