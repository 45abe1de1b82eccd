package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.entries;
import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.storage;
import static dev.tern.raft.RaftFixtures.terms;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AppendEntries receiver rules: Figure 2 "AppendEntries RPC" steps 1-5, section 5.3. */
class AppendEntriesRuleTest {

  private static AppendEntriesResponse append(Replica r, AppendEntries ae) {
    return r.onlyReply(ae, AppendEntriesResponse.class);
  }

  private static AppendEntries ae(long term, long prevIndex, long prevTerm, List<LogEntry> entries, long commit) {
    return new AppendEntries(term, "n2", prevIndex, prevTerm, entries, commit);
  }

  // Figure 2, AppendEntries receiver 2 (section 5.3): the log has no entry at prevLogIndex. The hint tells
  // the leader where our log ends: conflictIndex = lastIndex + 1, conflictTerm = 0.
  @Test
  void rejectsWhenPrevLogIndexIsBeyondTheLogEnd() {
    InMemoryStorage st = storage(2, null, 1, 1, 2);
    Replica r = replica(st);
    AppendEntriesResponse resp = append(r, ae(2, 5, 2, entries(6, 2), 0));
    assertEquals(AppendEntriesResponse.reject(2, "n1", 5, 4, 0), resp);
    assertArrayEquals(new long[] {1, 1, 2}, terms(st.entries()));
  }

  // Figure 2, AppendEntries receiver 2 (section 5.3, the optimisation after Figure 7): the entry at
  // prevLogIndex has another term. conflictTerm = our term there, conflictIndex = our first index of it.
  @Test
  void rejectsOnPrevLogTermMismatchWithTheConflictingTermHint() {
    InMemoryStorage st = storage(3, null, 1, 2, 2, 2);
    Replica r = replica(st);
    AppendEntriesResponse resp = append(r, ae(3, 4, 3, entries(5, 3), 0));
    assertFalse(resp.success());
    assertEquals(3, resp.term());
    assertEquals(4, resp.rejectedIndex());
    assertEquals(2, resp.conflictTerm());
    assertEquals(2, resp.conflictIndex());
    assertArrayEquals(new long[] {1, 2, 2, 2}, terms(st.entries()), "a rejected request must not change the log");
  }

  // Figure 2, AppendEntries receiver 4 (section 5.3): when prevLogIndex/prevLogTerm match, append the new
  // entries and reply success with the index now known to match.
  @Test
  void acceptsAndAppendsWhenPrevEntryMatches() {
    InMemoryStorage st = storage(2, null, 1, 1);
    Replica r = replica(st);
    AppendEntriesResponse resp = append(r, ae(2, 2, 1, entries(3, 2, 2), 0));
    assertEquals(AppendEntriesResponse.success(2, "n1", 4), resp);
    assertArrayEquals(new long[] {1, 1, 2, 2}, terms(st.entries()));
    assertEquals(4, r.status().lastLogIndex());
  }

  // Figure 2, AppendEntries receiver 2 on an empty log: prevLogIndex 0 always matches.
  @Test
  void emptyPrefixAlwaysMatches() {
    InMemoryStorage st = new InMemoryStorage();
    Replica r = replica(st);
    assertTrue(append(r, ae(1, 0, 0, entries(1, 1, 1), 0)).success());
    assertEquals(2, st.entries().size());
  }

  // Figure 2, AppendEntries receiver 3 (section 5.3, Figure 7): an existing entry that conflicts with a new
  // one (same index, different term) is deleted with all that follow, then the new entries are appended.
  @Test
  void truncatesAConflictingSuffixAndAppends() {
    InMemoryStorage st = storage(3, null, 1, 1, 2, 2, 2);
    Replica r = replica(st);
    AppendEntriesResponse resp = append(r, ae(3, 2, 1, entries(3, 3, 3), 0));
    assertEquals(AppendEntriesResponse.success(3, "n1", 4), resp);
    assertArrayEquals(new long[] {1, 1, 3, 3}, terms(st.entries()));
    assertArrayEquals(new long[] {1, 1, 3, 3}, terms(r.log().entries()));
  }

  // Figure 2, AppendEntries receiver 3: "if an existing entry conflicts" - entries that match are kept. A
  // late or duplicated request carrying fewer entries must not cut off the entries a newer one appended.
  @Test
  void staleRequestWithFewerEntriesDoesNotTruncateMatchingEntries() {
    InMemoryStorage st = storage(2, null, 1, 1);
    Replica r = replica(st);
    assertTrue(append(r, ae(2, 2, 1, entries(3, 2, 2, 2), 0)).success());
    AppendEntriesResponse late = append(r, ae(2, 2, 1, entries(3, 2), 0));
    assertEquals(AppendEntriesResponse.success(2, "n1", 3), late);
    assertArrayEquals(new long[] {1, 1, 2, 2, 2}, terms(st.entries()));
    assertEquals(5, r.status().lastLogIndex());
  }

  // Figure 3, State Machine Safety / Leader Completeness (section 5.4): a committed entry is never removed.
  // A (buggy or lost-state) leader asking to overwrite a committed entry is refused outright.
  @Test
  void neverTruncatesCommittedEntries() {
    InMemoryStorage st = storage(1, null);
    Replica r = replica(st);
    assertTrue(append(r, ae(1, 0, 0, entries(1, 1, 1, 1), 3)).success());
    assertEquals(3, r.status().commitIndex());

    AppendEntries overwrite = new AppendEntries(2, "n3", 1, 1, entries(2, 2), 3);
    Throwable t = assertThrows(Throwable.class, () -> r.run(overwrite));
    assertTrue(causeChainHas(t, IllegalStateException.class), "expected IllegalStateException, got " + t);
    assertTrue(String.valueOf(t.getMessage()).contains("committed"), t.toString());
    assertArrayEquals(new long[] {1, 1, 1}, terms(st.entries()), "committed entries were truncated in storage");
    assertEquals(List.of(1L, 2L, 3L), r.sm.applied().stream().map(LogEntry::index).toList());
  }

  private static boolean causeChainHas(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) if (type.isInstance(c)) return true;
    return false;
  }

  // Figure 2, AppendEntries receiver 5: commitIndex = min(leaderCommit, index of last new entry). A heartbeat
  // anchored below our last index verifies only the prefix up to prevLogIndex: the entries after it may be
  // from a deposed leader and must not be committed (or applied).
  @Test
  void heartbeatDoesNotCommitUnverifiedEntriesBeyondPrevLogIndex() {
    InMemoryStorage st = storage(2, null, 1, 1, 1, 1, 1);
    Replica r = replica(st);
    assertTrue(append(r, ae(2, 2, 1, List.of(), 5)).success());
    assertEquals(2, r.status().commitIndex());
    assertEquals(2, r.sm.applied().size());
  }

  // Figure 2, AppendEntries receiver 5: with new entries, commit up to the last of them when leaderCommit is
  // higher, and only up to leaderCommit when it is lower.
  @Test
  void commitIndexIsMinOfLeaderCommitAndLastNewEntry() {
    InMemoryStorage st = storage(2, null, 1, 1, 1, 1, 1);
    Replica r = replica(st);
    assertTrue(append(r, ae(2, 2, 1, entries(3, 1), 5)).success());
    assertEquals(3, r.status().commitIndex(), "bounded by the last new entry");

    Replica r2 = replica(storage(2, null));
    assertTrue(append(r2, ae(2, 0, 0, entries(1, 1, 1, 2), 2)).success());
    assertEquals(2, r2.status().commitIndex(), "bounded by leaderCommit");
    assertEquals(2, r2.sm.applied().size());
  }

  // Figure 2, AppendEntries receiver 5: "if leaderCommit > commitIndex" - commitIndex never goes backwards.
  @Test
  void commitIndexNeverDecreases() {
    Replica r = replica(storage(2, null));
    assertTrue(append(r, ae(2, 0, 0, entries(1, 1, 1, 2), 3)).success());
    assertTrue(append(r, ae(2, 1, 1, List.of(), 1)).success());
    assertEquals(3, r.status().commitIndex());
  }

  // Figure 2, AppendEntries receiver 1: reply false if term < currentTerm, with our term so the stale leader
  // steps down; the log is left untouched and we keep our term.
  @Test
  void rejectsAppendEntriesFromAnOlderTermWithTheCurrentTerm() {
    InMemoryStorage st = storage(3, null, 1);
    Replica r = replica(st);
    AppendEntriesResponse resp = append(r, ae(2, 1, 1, entries(2, 2), 2));
    assertFalse(resp.success());
    assertEquals(3, resp.term());
    assertArrayEquals(new long[] {1}, terms(st.entries()));
    assertEquals(0, r.status().commitIndex());
    assertEquals(3, st.hardState().currentTerm());
    assertTrue(r.behavior() instanceof Follower);
  }

  // Section 5.2: a follower learns the leader of its term from a valid AppendEntries (used for redirects).
  @Test
  void validAppendEntriesRecordsTheLeader() {
    Replica r = replica(storage(2, null));
    append(r, ae(2, 0, 0, List.of(), 0));
    assertEquals("n2", r.status().leaderId());
  }

  // Section 5.3 / Figure 2 persistence: the success reply leaves only after the appended entries are durable.
  @Test
  void successIsSentOnlyAfterTheEntriesAreDurable() {
    RaftFixtures.GatedStorage st = new RaftFixtures.GatedStorage(2, null, 1);
    Replica r = replica(st);
    r.run(ae(2, 1, 1, entries(2, 2), 0));
    assertEquals(2, st.inner.entries().size());
    assertTrue(r.transport.drain().isEmpty(), "success sent before the entries were durable");
    r.run(new RaftMessage.StorageSynced(st.syncAll()));
    assertEquals(List.of(AppendEntriesResponse.success(2, "n1", 2)),
        r.transport.drain().stream().map(CapturingTransport.Sent::message).toList());
  }
}
