package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.InstallSnapshot;
import dev.tern.raft.RaftMessage.InstallSnapshotResponse;
import dev.tern.storage.InMemoryStorage;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leader's side of a snapshot transfer (Figure 13) and its heartbeats (Figure 2, "Leaders": empty
 * AppendEntries during idle periods, which carry leaderCommit; receiver step 5 takes it only up to the request's
 * last entry).
 */
class SnapshotTransferRuleTest {
  /** A snapshot roughly every 4 commands, no trailing entries kept (the log starts at the snapshot), 16-byte pieces. */
  private static final RaftSettings NO_TRAILING = TestSettings.DEFAULTS.withSnapshots(100, 0, 16);

  private static List<CapturingTransport.Sent> deliver(Replica r, RaftMessage m) {
    r.run(m);
    r.runSelf();
    return r.transport.drain();
  }

  private static List<RaftMessage.PeerMessage> to(String peer, List<CapturingTransport.Sent> sent) {
    return sent.stream().filter(s -> s.to().equals(peer)).map(CapturingTransport.Sent::message).toList();
  }

  private static Replica leaderWithSnapshot() {
    return leaderWithSnapshot(NO_TRAILING);
  }

  /** Leader n1 of term 1 with commands e1..e8 committed by n2 and applied; n3 never answered. */
  private static Replica leaderWithSnapshot(RaftSettings settings) {
    Replica r = RaftFixtures.leaderWithEightCommitted(settings);
    r.transport.drain();
    return r;
  }

  /** Heartbeat ticks until the leader starts sending n3 the snapshot; returns what it sent n3 on that tick. */
  private static List<RaftMessage.PeerMessage> tickUntilTransferStarts(Replica r) {
    for (int tick = 0; tick < 4; tick++) {
      List<RaftMessage.PeerMessage> toN3 = to("n3", deliver(r, RaftMessage.HeartbeatTick.INSTANCE));
      if (toN3.stream().anyMatch(m -> m instanceof InstallSnapshot)) return toN3;
    }
    throw new AssertionError("no InstallSnapshot sent to n3");
  }

  // Figure 13: the tick on which the leader finds n3's next entry compacted sends n3 the snapshot's first piece,
  // and nothing else: the piece resets n3's election timer as a heartbeat would.
  @Test
  void theTickThatStartsATransferSendsTheFirstPieceAlone() {
    Replica r = leaderWithSnapshot();
    List<RaftMessage.PeerMessage> toN3 = tickUntilTransferStarts(r);
    assertEquals(1, toN3.size(), "the first piece and nothing else: " + toN3);
    assertEquals(0, ((InstallSnapshot) toN3.get(0)).offset());
  }

  // Figure 2 heartbeats, receiver step 5: once n3 holds the snapshot, its matchIndex is the leader's base index,
  // whose term the leader still knows (the snapshot's). The heartbeat is anchored there, so that n3 may take the
  // commit index up to it; anchored at 0 (the empty prefix), it would tell n3 nothing it can commit.
  @Test
  void aHeartbeatToAFollowerHoldingExactlyTheSnapshotIsAnchoredAtIt() {
    Replica r = leaderWithSnapshot();
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    byte[] data = ((InMemoryStorage) r.storage).snapshot().data().readAll();
    assertEquals(meta.lastIncludedIndex(), r.log().baseIndex(), "no trailing entries");
    tickUntilTransferStarts(r);
    deliver(r, new InstallSnapshotResponse(1, "n3", meta.lastIncludedIndex(), data.length, true));
    assertEquals(meta.lastIncludedIndex(), ((Leader) r.behavior()).progressOf("n3").matchIndex);

    List<RaftMessage.PeerMessage> toN3 = to("n3", deliver(r, RaftMessage.HeartbeatTick.INSTANCE));
    AppendEntries heartbeat = assertInstanceOf(AppendEntries.class, toN3.get(toN3.size() - 1));
    assertTrue(heartbeat.entries().isEmpty(), heartbeat.toString());
    assertEquals(meta.lastIncludedIndex(), heartbeat.prevLogIndex());
    assertEquals(meta.lastIncludedTerm(), heartbeat.prevLogTerm());
    assertEquals(r.status().commitIndex(), heartbeat.leaderCommit());
  }

  // docs/operations.md, /health and /v1/status: a leader that cannot commit says why, naming a follower that is
  // receiving a snapshot as such, and its status marks that follower.
  @Test
  void theStatusAndAStallReasonNameTheFollowerReceivingASnapshot() {
    Replica r = leaderWithSnapshot(NO_TRAILING.withCommitStallTimeout(Duration.ofMillis(250))); // 5 heartbeats
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    tickUntilTransferStarts(r);
    List<RaftMessage.FollowerStatus> followers = r.status().followers();
    assertEquals(List.of("n2", "n3"), followers.stream().map(RaftMessage.FollowerStatus::id).toList());
    assertFalse(followers.get(0).sendingSnapshot());
    assertTrue(followers.get(1).sendingSnapshot());

    r.propose("waits"); // n2 does not answer, n3 is busy with the snapshot: no majority
    r.runSelf();
    for (int tick = 0; tick < 6; tick++) deliver(r, RaftMessage.HeartbeatTick.INSTANCE);
    String stall = r.status().commitStall();
    assertNotNull(stall);
    assertTrue(stall.contains("n3 has 0 (receiving snapshot " + meta.lastIncludedIndex() + ")"), stall);
    assertTrue(stall.contains("n2 has 9, last"), stall);
  }
}
