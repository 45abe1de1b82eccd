package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.entries;
import static dev.tern.raft.RaftFixtures.log;
import static dev.tern.raft.RaftFixtures.storage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.InstallSnapshot;
import dev.tern.raft.RaftMessage.InstallSnapshotResponse;
import dev.tern.storage.InMemoryStorage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Snapshots and log compaction: Raft paper section 7 and Figure 13 (InstallSnapshot RPC). */
class SnapshotRuleTest {
  private static final List<String> MEMBERS = List.of("n1", "n2", "n3");

  /** A snapshot roughly every 4 commands, 2 trailing entries kept, pieces of 16 bytes. */
  private static final RaftSettings SNAPSHOTTING = TestSettings.DEFAULTS.withSnapshots(100, 2, 16);

  private static byte[] snapshotOf(List<LogEntry> applied) {
    return EntryListCodec.bytes(applied);
  }

  private static InstallSnapshot piece(long term, long index, long snapTerm, byte[] all, int from, int to) {
    return new InstallSnapshot(term, "n2", index, snapTerm, MEMBERS, from, Arrays.copyOfRange(all, from, to),
        to == all.length);
  }

  /** Delivers a message, then whatever the replica told itself (storage callbacks), and returns what it sent. */
  private static List<CapturingTransport.Sent> deliver(Replica r, RaftMessage m) {
    r.run(m);
    r.runSelf();
    return r.transport.drain();
  }

  /** Leader n1 of term 1 with commands e1..eN committed (acknowledged by n2) and applied. */
  private static Replica leaderWithCommitted(int commands) {
    Replica r = RaftFixtures.replica(new InMemoryStorage(), SNAPSHOTTING);
    r.electLeader(); // its no-op is entry 1
    for (int i = 0; i < commands; i++) r.propose("command-" + i);
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 1 + commands));
    r.runSelf(); // the snapshot's save reports back
    r.transport.drain();
    return r;
  }

  /**
   * n3 never answered the leader: after two heartbeats the leader probes it again from its first entry, which
   * is compacted, so it starts sending the snapshot. Returns the first piece.
   */
  private static InstallSnapshot transferStartsToN3(Replica r) {
    for (int tick = 0; tick < 3; tick++) {
      for (CapturingTransport.Sent s : deliver(r, RaftMessage.HeartbeatTick.INSTANCE)) {
        if (s.message() instanceof InstallSnapshot is) {
          assertEquals("n3", s.to());
          return is;
        }
      }
    }
    throw new AssertionError("no InstallSnapshot sent to n3");
  }

  // Section 7: once enough has been applied the server snapshots its state, and the log up to the snapshot's
  // last included index can be discarded (here: all but the trailing entries kept for slow followers).
  @Test
  void snapshotsPastTheThresholdAndCompactsTheLogButForTrailingEntries() {
    Replica r = leaderWithCommitted(8); // entries 1..9, each command ~33 bytes: a snapshot after 4 entries
    InMemoryStorage st = (InMemoryStorage) r.storage;
    assertTrue(st.snapshot() != null, "no snapshot was taken");
    SnapshotMeta meta = st.snapshot().meta();
    assertTrue(meta.lastIncludedIndex() >= 4, "snapshot at " + meta.lastIncludedIndex());
    assertEquals(1, meta.lastIncludedTerm());
    assertEquals(MEMBERS, meta.members());
    // The snapshot holds exactly the entries applied up to its index.
    assertEquals(r.sm.applied().subList(0, (int) meta.lastIncludedIndex()), EntryListCodec.read(st.snapshot().data().readAll()));
    long base = meta.lastIncludedIndex() - 2;
    assertEquals(base, r.log().baseIndex());
    assertEquals(base + 1, st.entries().get(0).index(), "storage still holds the compacted entries");
    assertEquals(9, r.log().lastIndex());
    assertEquals(1, r.log().termAt(base));
    assertEquals(-1, r.log().termAt(base - 1));
  }

  /**
   * The trailing entries are bounded in bytes too: with large values, a count alone kept gigabytes in memory (a
   * 3-node cluster with 512 MiB heaps ran out of memory under 1 MiB writes).
   */
  @Test
  void keepsNoMoreTrailingEntriesThanTheBytesAllow() {
    int entryBytes = LogEntry.command(1, 1, "command-0".getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .approximateSize();
    RaftSettings bounded = TestSettings.DEFAULTS.withSnapshots(100, 1000, 16).withSnapshotTrailingBytes(2L * entryBytes + 1);
    Replica r = RaftFixtures.replica(new InMemoryStorage(), bounded);
    r.electLeader();
    for (int i = 0; i < 8; i++) r.propose("command-" + i);
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 9));
    r.runSelf();
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    // 1,000 entries allowed by count, but only two fit in the bytes.
    assertEquals(meta.lastIncludedIndex() - 2, r.log().baseIndex());
  }

  // Figure 13: the leader sends InstallSnapshot to a follower that needs entries it has discarded, in pieces,
  // each one from where the follower says it stands; then it goes on with AppendEntries after the snapshot.
  @Test
  void sendsTheSnapshotInPiecesToAFollowerWhoseNextEntryWasCompacted() {
    Replica r = leaderWithCommitted(8);
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    byte[] data = ((InMemoryStorage) r.storage).snapshot().data().readAll();
    InstallSnapshot first = transferStartsToN3(r);
    assertEquals(meta, first.meta());
    assertEquals(0, first.offset());
    assertEquals(16, first.data().length);
    assertFalse(first.done());

    ByteArrayOutputStream received = new ByteArrayOutputStream();
    received.writeBytes(first.data());
    InstallSnapshot last = first;
    while (!last.done()) {
      List<CapturingTransport.Sent> next =
          deliver(r, new InstallSnapshotResponse(1, "n3", meta.lastIncludedIndex(), received.size(), false));
      assertEquals(1, next.size(), "one piece at a time: " + next);
      last = (InstallSnapshot) next.get(0).message();
      assertEquals(received.size(), last.offset());
      received.writeBytes(last.data());
    }
    assertArrayEquals(data, received.toByteArray());

    List<CapturingTransport.Sent> after =
        deliver(r, new InstallSnapshotResponse(1, "n3", meta.lastIncludedIndex(), data.length, true));
    AppendEntries ae = assertInstanceOf(AppendEntries.class, after.get(0).message());
    assertEquals(meta.lastIncludedIndex(), ae.prevLogIndex());
    assertEquals(meta.lastIncludedTerm(), ae.prevLogTerm());
    assertEquals(meta.lastIncludedIndex(), r.behavior() instanceof Leader l ? l.progressOf("n3").matchIndex : -1);
  }

  // A transfer that broke off goes on from where the follower stands, or from the start if it lost it all.
  @Test
  void resumesOrRestartsFromWhereTheFollowerSaysItStands() {
    Replica r = leaderWithCommitted(8);
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    transferStartsToN3(r);
    InstallSnapshot second = (InstallSnapshot) deliver(r,
        new InstallSnapshotResponse(1, "n3", meta.lastIncludedIndex(), 16, false)).get(0).message();
    assertEquals(16, second.offset());
    InstallSnapshot again = (InstallSnapshot) deliver(r,
        new InstallSnapshotResponse(1, "n3", meta.lastIncludedIndex(), 0, false)).get(0).message();
    assertEquals(0, again.offset(), "the follower lost the transfer (it restarted): start over");
  }

  // A piece or its answer lost: after a few heartbeats without an answer, the piece is sent again.
  @Test
  void sendsAPieceAgainWhenNoAnswerComes() {
    Replica r = leaderWithCommitted(8);
    transferStartsToN3(r);
    int resent = 0;
    for (int tick = 0; tick < 4; tick++) {
      for (CapturingTransport.Sent s : deliver(r, RaftMessage.HeartbeatTick.INSTANCE)) {
        if (s.message() instanceof InstallSnapshot is) {
          assertEquals(0, is.offset());
          resent++;
        }
      }
    }
    assertEquals(1, resent);
  }

  // Figure 13, receiver step 1: reply immediately if term < currentTerm.
  @Test
  void refusesAnInstallSnapshotOfAnOlderTerm() {
    InMemoryStorage st = storage(3, null, 1, 1);
    Replica r = RaftFixtures.replica(st);
    byte[] data = snapshotOf(log(1, 1, 2));
    List<CapturingTransport.Sent> sent = deliver(r, piece(2, 3, 2, data, 0, data.length));
    InstallSnapshotResponse resp = (InstallSnapshotResponse) sent.get(0).message();
    assertEquals(3, resp.term());
    assertFalse(resp.done());
    assertNull(st.snapshot(), "nothing may be stored for a stale leader");
  }

  // Steps 2-5: pieces are stored as they come; the state is replaced only once the whole snapshot is stored.
  // Step 7: a log without the snapshot's last entry is discarded entirely. Step 8: the state machine is reset
  // from the snapshot.
  @Test
  void installsOnlyWhenCompleteAndDiscardsALogThatLacksTheSnapshotsLastEntry() {
    InMemoryStorage st = storage(2, null, 1, 1);
    Replica r = RaftFixtures.replica(st);
    List<LogEntry> leaderApplied = log(1, 1, 2, 2, 2);
    byte[] data = snapshotOf(leaderApplied);
    int half = data.length / 2;

    InstallSnapshotResponse firstAnswer =
        (InstallSnapshotResponse) deliver(r, piece(2, 5, 2, data, 0, half)).get(0).message();
    assertEquals(half, firstAnswer.nextOffset());
    assertFalse(firstAnswer.done());
    assertEquals(0, r.sm.restores, "state replaced before the snapshot was complete");
    assertEquals(2, r.log().lastIndex());

    InstallSnapshotResponse done =
        (InstallSnapshotResponse) deliver(r, piece(2, 5, 2, data, half, data.length)).get(0).message();
    assertTrue(done.done());
    assertEquals(5, done.lastIncludedIndex());
    assertEquals(1, r.sm.restores);
    assertEquals(leaderApplied, r.sm.applied());
    assertEquals(5, r.log().baseIndex());
    assertEquals(5, r.log().lastIndex());
    assertEquals(2, r.log().termAt(5));
    assertEquals(5, r.status().commitIndex());
    assertTrue(st.entries().isEmpty(), "the stale log must be gone from storage too");

    // The log goes on after the snapshot.
    AppendEntriesResponse ok = r.onlyReply(
        new AppendEntries(2, "n2", 5, 2, entries(6, 2), 6), AppendEntriesResponse.class);
    assertTrue(ok.success());
    assertEquals(6, r.sm.applied().size());
  }

  // Step 6: if an existing entry has the same index and term as the snapshot's last included entry, retain the
  // entries following it.
  @Test
  void keepsTheEntriesAfterTheSnapshotWhenItsLogHoldsTheSnapshotsLastEntry() {
    InMemoryStorage st = storage(2, null, 1, 1, 2, 2, 2, 2);
    Replica r = RaftFixtures.replica(st);
    byte[] data = snapshotOf(log(1, 1, 2, 2));
    InstallSnapshotResponse done =
        (InstallSnapshotResponse) deliver(r, piece(2, 4, 2, data, 0, data.length)).get(0).message();
    assertTrue(done.done());
    assertEquals(4, r.log().baseIndex());
    assertEquals(6, r.log().lastIndex());
    assertEquals(List.of(5L, 6L), st.entries().stream().map(LogEntry::index).toList());
  }

  // A snapshot covering only what the follower has committed changes nothing: it is answered as installed.
  @Test
  void answersAtOnceForASnapshotItAlreadyHolds() {
    Replica r = RaftFixtures.replica(storage(2, null, 1, 1, 2));
    r.run(new AppendEntries(2, "n2", 3, 2, List.of(), 3)); // commits 1..3
    r.transport.drain();
    byte[] data = snapshotOf(log(1, 1));
    List<CapturingTransport.Sent> sent = deliver(r, piece(2, 2, 1, data, 0, 4));
    InstallSnapshotResponse resp = (InstallSnapshotResponse) sent.get(0).message();
    assertTrue(resp.done());
    assertEquals(0, r.sm.restores);
    assertEquals(3, r.log().lastIndex());
  }

  // A piece that does not follow what is stored is refused, with where to go on from.
  @Test
  void refusesAPieceOutOfOrderAndSaysWhereToGoOn() {
    Replica r = RaftFixtures.replica(storage(2, null, 1));
    byte[] data = snapshotOf(log(1, 1, 2, 2, 2));
    deliver(r, piece(2, 5, 2, data, 0, 10));
    InstallSnapshotResponse resp =
        (InstallSnapshotResponse) deliver(r, piece(2, 5, 2, data, 20, 30)).get(0).message();
    assertEquals(10, resp.nextOffset());
    assertFalse(resp.done());
  }

  // Below the follower's snapshot everything is committed, so an AppendEntries anchored there matches: only the
  // entries after the snapshot are checked and appended.
  @Test
  void appendEntriesAnchoredBelowTheSnapshotMatchesThere() {
    InMemoryStorage st = storage(2, null, 1);
    Replica r = RaftFixtures.replica(st);
    byte[] data = snapshotOf(log(1, 1, 2, 2));
    deliver(r, piece(2, 4, 2, data, 0, data.length));
    AppendEntriesResponse ok = r.onlyReply(
        new AppendEntries(2, "n2", 2, 1, entries(3, 2, 2, 2, 2), 6), AppendEntriesResponse.class);
    assertTrue(ok.success());
    assertEquals(6, ok.matchIndex());
    assertEquals(6, r.log().lastIndex());
    assertEquals(6, r.sm.applied().size());
  }

  // Recovery: a replica restarting from a snapshot restores its state machine from it and goes on from its log.
  @Test
  void restartsFromTheSnapshotAndTheLogAfterIt() {
    Replica r = leaderWithCommitted(8);
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    RecordingStateMachine fresh = new RecordingStateMachine();
    Replica restarted = new Replica("n1", RaftFixtures.TWO_PEERS, SNAPSHOTTING, r.storage, fresh, 2);
    assertEquals(1, fresh.restores);
    assertEquals(meta.lastIncludedIndex(), fresh.lastApplied());
    assertEquals(meta.lastIncludedIndex(), restarted.log().baseIndex());
    assertEquals(9, restarted.log().lastIndex());
    assertEquals(meta.lastIncludedIndex(), restarted.status().commitIndex());
  }

  // Outside Raft's model: a follower that lost its disk answers a heartbeat at its old matchIndex with "my log
  // ends before that". The leader must start over with it (here: by snapshot) rather than wait forever; an
  // older rejection below matchIndex changes nothing.
  @Test
  void aFollowerThatLostItsLogIsReplicatedToFromScratch() {
    Replica r = leaderWithCommitted(8); // n2 acknowledged up to 9
    assertTrue(deliver(r, AppendEntriesResponse.reject(1, "n2", 5, 1, 0)).isEmpty(), "an old rejection moved it");
    List<CapturingTransport.Sent> sent = deliver(r, AppendEntriesResponse.reject(1, "n2", 9, 1, 0));
    InstallSnapshot is = assertInstanceOf(InstallSnapshot.class, sent.get(0).message());
    assertEquals("n2", sent.get(0).to());
    assertEquals(0, is.offset());
    assertEquals(0, ((Leader) r.behavior()).progressOf("n2").matchIndex);
  }

  // After an election the leader does not know where followers stand (matchIndex 0). A follower slow to answer
  // the first probe gets that probe again, not the whole snapshot.
  @Test
  void anUnansweredProbeIsResentAsIsRatherThanFallingBackToTheSnapshot() {
    Replica before = leaderWithCommitted(8);
    Replica r = new Replica("n1", RaftFixtures.TWO_PEERS, SNAPSHOTTING, before.storage, new RecordingStateMachine(), 3);
    Leader leader = r.electLeader(); // term 2, log compacted: followers' nextIndex is past the snapshot
    long probeAt = leader.progressOf("n3").nextIndex;
    for (int tick = 0; tick < 3; tick++) {
      for (CapturingTransport.Sent s : deliver(r, RaftMessage.HeartbeatTick.INSTANCE)) {
        if (s.to().equals("n3")) assertInstanceOf(AppendEntries.class, s.message());
      }
    }
    assertEquals(probeAt, leader.progressOf("n3").nextIndex);
  }

  // Below the follower's snapshot everything is committed: an AppendEntries that lies entirely below it matches
  // and is acknowledged up to its last entry, without touching the log.
  @Test
  void appendEntriesEntirelyBelowTheSnapshotIsAcknowledged() {
    Replica r = RaftFixtures.replica(storage(2, null, 1));
    byte[] data = snapshotOf(log(1, 1, 2, 2));
    deliver(r, piece(2, 4, 2, data, 0, data.length));
    AppendEntriesResponse ok = r.onlyReply(
        new AppendEntries(2, "n2", 1, 1, entries(2, 1, 2), 4), AppendEntriesResponse.class);
    assertTrue(ok.success());
    assertEquals(3, ok.matchIndex());
    assertEquals(4, r.log().lastIndex());
  }

  // Figure 13 (receiver) with section 5.2: an InstallSnapshot of the current term comes from its leader, so the
  // follower records the leader and restarts its election timer, as for AppendEntries.
  @Test
  void anInstallSnapshotNamesTheLeaderAndResetsTheElectionTimer() {
    Replica r = RaftFixtures.replica(storage(2, null, 1));
    r.effects();
    byte[] data = snapshotOf(log(1, 1, 2, 2));
    deliver(r, piece(2, 4, 2, data, 0, 10));
    assertEquals("n2", r.status().leaderId());
    assertEquals(1, RaftFixtures.electionTimers(r.effects()).size(), "the election timer was not reset");
  }

  // A snapshot whose last entry is exactly the follower's commit index adds nothing: it is answered as
  // installed at once, and the answer says the whole piece was taken.
  @Test
  void answersAtOnceForASnapshotEndingAtItsCommitIndex() {
    Replica r = RaftFixtures.replica(storage(2, null, 1, 1, 2));
    r.run(new AppendEntries(2, "n2", 3, 2, List.of(), 3)); // commits 1..3
    r.transport.drain();
    byte[] data = snapshotOf(log(1, 1, 2));
    List<CapturingTransport.Sent> sent = deliver(r, piece(2, 3, 2, data, 4, 9));
    assertEquals(List.of(new InstallSnapshotResponse(2, "n1", 3, 9, true)),
        sent.stream().map(CapturingTransport.Sent::message).toList());
    assertEquals(0, r.sm.restores);
  }

  // Section 7: a snapshot that could not be written changes nothing (the log is not compacted, the previous
  // snapshot stays the latest); a report of an older snapshot than the one held is ignored too.
  @Test
  void aFailedOrOlderSnapshotSaveChangesNothing() {
    Replica r = leaderWithCommitted(8);
    long held = r.status().snapshotIndex();
    assertTrue(held > 0);
    long base = r.log().baseIndex();
    r.run(new RaftMessage.SnapshotSaved(new SnapshotMeta(held + 1, 1, MEMBERS), new IOException("disk full")));
    assertEquals(held, r.status().snapshotIndex());
    assertEquals(base, r.log().baseIndex());
    r.run(new RaftMessage.SnapshotSaved(new SnapshotMeta(held - 1, 1, MEMBERS), null));
    assertEquals(held, r.status().snapshotIndex());
    assertEquals(base, r.log().baseIndex());
  }

  // Section 7: a snapshot is taken once the applied entries reach the threshold, not only once they pass it.
  @Test
  void aSnapshotIsTakenWhenTheAppliedBytesReachTheThresholdExactly() {
    int twoEntries = 2 * LogEntry.command(1, 1, RaftFixtures.bytes("e1")).approximateSize();
    InMemoryStorage exact = storage(1, null, 1, 1, 1);
    Replica r = RaftFixtures.replica(exact, TestSettings.DEFAULTS.withSnapshots(twoEntries, 0, 16));
    r.run(new AppendEntries(1, "n2", 3, 1, List.of(), 2)); // commits and applies e1, e2
    r.runSelf();
    assertTrue(exact.snapshot() != null, "no snapshot at exactly the threshold");
    assertEquals(2, exact.snapshot().meta().lastIncludedIndex());

    InMemoryStorage under = storage(1, null, 1, 1, 1);
    Replica below = RaftFixtures.replica(under, TestSettings.DEFAULTS.withSnapshots(twoEntries + 1, 0, 16));
    below.run(new AppendEntries(1, "n2", 3, 1, List.of(), 2));
    below.runSelf();
    assertNull(under.snapshot(), "a snapshot below the threshold");
  }

  // Recovery (section 7): a state machine that already holds the snapshot's state is not restored again.
  @Test
  void aStateMachineThatAlreadyHoldsTheSnapshotIsNotRestored() {
    Replica r = leaderWithCommitted(8);
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    RecordingStateMachine upToDate = new RecordingStateMachine();
    for (LogEntry e : r.sm.applied().subList(0, (int) meta.lastIncludedIndex())) upToDate.apply(e);
    Replica restarted = new Replica("n1", RaftFixtures.TWO_PEERS, SNAPSHOTTING, r.storage, upToDate, 2);
    assertEquals(0, upToDate.restores);
    assertEquals(meta.lastIncludedIndex(), restarted.status().lastApplied());
  }

  /** Sends n3 the whole snapshot, piece by piece; returns the pieces, the last one included. */
  private static List<InstallSnapshot> transferAll(Replica r, SnapshotMeta meta) {
    List<InstallSnapshot> pieces = new java.util.ArrayList<>();
    InstallSnapshot last = transferStartsToN3(r);
    pieces.add(last);
    long received = last.data().length;
    while (!last.done()) {
      last = (InstallSnapshot) deliver(r,
          new InstallSnapshotResponse(1, "n3", meta.lastIncludedIndex(), received, false)).get(0).message();
      pieces.add(last);
      received += last.data().length;
    }
    return pieces;
  }

  // Figure 13 "done: true if this is the last chunk": the piece that completes the data says so; no empty
  // piece follows.
  @Test
  void theLastPieceOfDataIsMarkedDone() {
    Replica r = leaderWithCommitted(8);
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    byte[] data = ((InMemoryStorage) r.storage).snapshot().data().readAll();
    List<InstallSnapshot> pieces = transferAll(r, meta);
    assertEquals((data.length + 15) / 16, pieces.size(), "pieces of 16 bytes");
    InstallSnapshot last = pieces.get(pieces.size() - 1);
    assertEquals(data.length, last.offset() + last.data().length);
    assertTrue(last.data().length > 0);
  }

  /** The InstallSnapshot messages among {@code sent}, all of which must go to n3. */
  private static List<InstallSnapshot> pieces(List<CapturingTransport.Sent> sent) {
    List<InstallSnapshot> pieces = new java.util.ArrayList<>();
    for (CapturingTransport.Sent s : sent) {
      if (s.message() instanceof InstallSnapshot is) {
        assertEquals("n3", s.to());
        pieces.add(is);
      }
    }
    return pieces;
  }

  /** One heartbeat tick, n2 answering it (it keeps the leader's quorum); returns the pieces sent to n3. */
  private static List<InstallSnapshot> tickWithN2(Replica r, long n2Match) {
    r.run(AppendEntriesResponse.success(1, "n2", n2Match));
    return pieces(deliver(r, RaftMessage.HeartbeatTick.INSTANCE));
  }

  // A follower away (no answer for Leader.SILENT_TICKS heartbeats: stopped, cut off) is not sent the snapshot again
  // and again: the pieces stop; they go on once it answers again.
  @Test
  void piecesStopWhileTheFollowerIsAwayAndGoOnWhenItAnswers() {
    Replica r = leaderWithCommitted(8);
    transferStartsToN3(r);
    int sentLate = 0;
    for (int tick = 0; tick < Leader.SILENT_TICKS + 20; tick++) {
      int n = tickWithN2(r, 9).size();
      if (tick > Leader.SILENT_TICKS) sentLate += n;
    }
    assertEquals(0, sentLate, "pieces for a follower that has not answered for " + Leader.SILENT_TICKS + " heartbeats");
    r.run(AppendEntriesResponse.reject(1, "n3", 9, 1, 0)); // it is back, and holds nothing
    r.runSelf();
    List<InstallSnapshot> resumed = new java.util.ArrayList<>();
    for (int tick = 0; tick < 5 && resumed.isEmpty(); tick++) resumed.addAll(tickWithN2(r, 9));
    assertEquals(0, resumed.get(0).offset(), "the piece goes again from where it stood");
  }

  // A follower that has been away since before the leader compacted past it gets heartbeats, no snapshot (no full
  // snapshot is written for it either); the transfer starts once it answers.
  @Test
  void aFollowerAwayWhenTheLogIsCompactedGetsTheSnapshotOnlyOnceItAnswers() {
    Replica r = RaftFixtures.replica(new InMemoryStorage(), SNAPSHOTTING);
    r.electLeader(); // its no-op is entry 1
    for (int tick = 0; tick <= Leader.SILENT_TICKS; tick++) assertEquals(List.of(), tickWithN2(r, 1));
    for (int i = 0; i < 8; i++) r.propose("command-" + i);
    r.runSelf();
    r.run(AppendEntriesResponse.success(1, "n2", 9));
    r.runSelf(); // the snapshot: the log is compacted past n3's next entry
    assertTrue(r.log().baseIndex() > 1, "compacted: " + r.log().baseIndex());
    for (int tick = 0; tick < 10; tick++) {
      List<CapturingTransport.Sent> sent = deliver(r, RaftMessage.HeartbeatTick.INSTANCE);
      r.run(AppendEntriesResponse.success(1, "n2", 9));
      assertEquals(List.of(), pieces(sent), "a snapshot for a follower that is away");
      assertTrue(sent.stream().anyMatch(x -> x.to().equals("n3") && x.message() instanceof AppendEntries), "heartbeats to n3");
    }
    r.run(AppendEntriesResponse.reject(1, "n3", 9, 1, 0));
    r.runSelf();
    List<InstallSnapshot> started = new java.util.ArrayList<>(pieces(r.transport.drain()));
    for (int tick = 0; tick < 5 && started.isEmpty(); tick++) started.addAll(tickWithN2(r, 9));
    assertEquals(0, started.get(0).offset(), "the transfer starts once it answers");
  }

  // Section 5.2: a follower being sent a snapshot still hears heartbeats, so it does not start an election
  // while pieces are slow to come.
  @Test
  void aFollowerBeingSentASnapshotStillGetsHeartbeats() {
    Replica r = leaderWithCommitted(8);
    transferStartsToN3(r);
    List<CapturingTransport.Sent> sent = deliver(r, RaftMessage.HeartbeatTick.INSTANCE);
    assertTrue(sent.stream().anyMatch(s -> s.to().equals("n3") && s.message() instanceof AppendEntries ae
        && ae.entries().isEmpty()), "no heartbeat to n3: " + sent);
  }

  // Figure 13 with Figure 2 "Leaders": while a piece is on its way, a new commit is told to the follower by a
  // heartbeat; the transfer goes on one piece at a time (no second piece before the first is answered).
  @Test
  void aCommitDuringATransferIsToldByAHeartbeatNotAnExtraPiece() {
    Replica r = leaderWithCommitted(8);
    transferStartsToN3(r);
    r.propose("y");
    r.runSelf();
    r.transport.drain();
    List<CapturingTransport.Sent> sent = deliver(r, AppendEntriesResponse.success(1, "n2", 10));
    assertEquals(10, r.status().commitIndex());
    List<RaftMessage.PeerMessage> toN3 =
        sent.stream().filter(s -> s.to().equals("n3")).map(CapturingTransport.Sent::message).toList();
    assertEquals(1, toN3.size(), toN3.toString());
    AppendEntries hb = assertInstanceOf(AppendEntries.class, toN3.get(0));
    assertEquals(10, hb.leaderCommit());
  }

  // Answers that belong to no transfer in progress (a repeated "installed", a piece of another snapshot, a
  // stray answer, a piece read for a server that is not a member or at an old offset) change nothing.
  @Test
  void answersAndPiecesOutsideTheTransferInProgressAreIgnored() {
    Replica r = leaderWithCommitted(8);
    SnapshotMeta meta = ((InMemoryStorage) r.storage).snapshot().meta();
    byte[] data = ((InMemoryStorage) r.storage).snapshot().data().readAll();
    transferStartsToN3(r);
    long index = meta.lastIncludedIndex();
    assertTrue(deliver(r, new InstallSnapshotResponse(1, "n3", index - 1, 16, false)).isEmpty(), "another snapshot's answer");
    assertTrue(deliver(r, new InstallSnapshotResponse(1, "n2", index, 16, false)).isEmpty(), "n2 is not being sent one");
    assertTrue(deliver(r, new RaftMessage.SnapshotChunkRead("n9", meta, 0, new RaftStorage.Chunk(data, data.length)))
        .isEmpty(), "a piece for a non-member");
    assertTrue(deliver(r, new RaftMessage.SnapshotChunkRead("n3", meta, 5, new RaftStorage.Chunk(data, data.length)))
        .isEmpty(), "a piece at an offset n3 does not stand at");

    List<CapturingTransport.Sent> after = deliver(r, new InstallSnapshotResponse(1, "n3", index, data.length, true));
    assertEquals(1, after.size(), "one probe after the snapshot: " + after);
    assertTrue(deliver(r, new InstallSnapshotResponse(1, "n3", index, data.length, true)).isEmpty(),
        "a repeated 'installed' sent something");
  }

  // Figure 13 receiver: a piece stored after the follower moved to a newer term is not answered to the old
  // leader (the new leader starts its own transfer).
  @Test
  void aPieceStoredAfterATermChangeIsNotAnswered() {
    Replica r = RaftFixtures.replica(storage(2, null, 1));
    byte[] data = snapshotOf(log(1, 1, 2, 2));
    r.run(piece(2, 4, 2, data, 0, 10)); // the piece's "stored" report waits in the mailbox
    r.run(new RaftMessage.RequestVote(3, "n3", 0, 0)); // term 3 (refused: n3's log is behind)
    r.transport.drain();
    r.runSelf();
    assertTrue(r.transport.drain(InstallSnapshotResponse.class).isEmpty());
  }

  // Figure 13 step 8 only when the snapshot adds something: if, while the last piece was being stored, the
  // follower applied up to the snapshot's index through AppendEntries, the snapshot does not replace its state.
  @Test
  void aSnapshotOvertakenByCommittedEntriesDoesNotReplaceTheState() {
    Replica r = RaftFixtures.replica(storage(2, null, 1));
    byte[] data = snapshotOf(log(1, 1, 2, 2));
    r.run(piece(2, 4, 2, data, 0, data.length)); // stored, reported later
    r.run(new AppendEntries(2, "n2", 1, 1, entries(2, 1, 2, 2), 4)); // meanwhile: entries 2..4, all committed
    assertEquals(4, r.sm.applied().size());
    r.runSelf();
    assertEquals(0, r.sm.restores);
    assertEquals(4, r.status().lastApplied());
  }

  // Section 7: a follower holding an older snapshot of its own records the leader's newer one as its latest.
  @Test
  void aNewerSnapshotFromTheLeaderBecomesTheLatest() {
    InMemoryStorage st = storage(1, null);
    Replica r = RaftFixtures.replica(st, SNAPSHOTTING);
    // Entries applied through AppendEntries until the follower snapshots on its own.
    r.run(new AppendEntries(1, "n2", 0, 0, entries(1, 1, 1, 1, 1, 1), 5));
    r.runSelf();
    long own = r.status().snapshotIndex();
    assertTrue(own > 0 && own <= 5, "own snapshot at " + own);
    r.transport.drain();
    byte[] data = snapshotOf(log(1, 1, 1, 1, 1, 1, 1, 1));
    deliver(r, new InstallSnapshot(2, "n2", 8, 1, MEMBERS, 0, data, true));
    assertEquals(8, r.status().snapshotIndex());
    assertEquals(8, r.status().lastApplied());
  }
}
