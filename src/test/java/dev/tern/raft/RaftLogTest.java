package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.entries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The in-memory log's bounds: Figure 2's log[] with the compaction of section 7 (Figure 12, "lastIncludedIndex"),
 * checked at each edge (the base, the last entry, one past it) since each is an off-by-one waiting to happen.
 */
class RaftLogTest {

  /** Entries 1..5 compacted into a snapshot whose last entry has term 2; 6..8 held, terms 2, 3, 3. */
  private static RaftLog compacted() {
    return new RaftLog(5, 2, entries(6, 2, 3, 3));
  }

  // Section 7: after compaction the log starts right after the snapshot's last included index.
  @Test
  void firstIndexIsRightAfterTheSnapshot() {
    RaftLog log = compacted();
    assertEquals(5, log.baseIndex());
    assertEquals(6, log.firstIndex());
    assertEquals(8, log.lastIndex());
  }

  // Figure 13 "lastIncludedTerm": the term at the base is still known; before it, or past the end, none is.
  @Test
  void termAtEveryEdge() {
    RaftLog log = compacted();
    assertEquals(-1, log.termAt(4));
    assertEquals(2, log.termAt(5));
    assertEquals(2, log.termAt(6));
    assertEquals(3, log.termAt(8));
    assertEquals(-1, log.termAt(9));
  }

  @Test
  void getRefusesTheCompactedBaseAndPastTheEnd() {
    RaftLog log = compacted();
    assertEquals(6, log.get(6).index());
    assertEquals(8, log.get(8).index());
    IndexOutOfBoundsException atBase = assertThrows(IndexOutOfBoundsException.class, () -> log.get(5));
    assertTrue(atBase.getMessage().contains("entry 5 is not held"), atBase.getMessage());
    assertThrows(IndexOutOfBoundsException.class, () -> log.get(9));
  }

  @Test
  void sliceFromPastTheEndIsEmptyAndFromTheBaseIsRefused() {
    RaftLog log = compacted();
    assertEquals(List.of(), log.slice(9, 10, Long.MAX_VALUE));
    assertEquals(List.of(), log.slice(12, 10, Long.MAX_VALUE));
    IndexOutOfBoundsException atBase =
        assertThrows(IndexOutOfBoundsException.class, () -> log.slice(5, 10, Long.MAX_VALUE));
    assertTrue(atBase.getMessage().contains("was compacted"), atBase.getMessage());
    IndexOutOfBoundsException below =
        assertThrows(IndexOutOfBoundsException.class, () -> log.slice(3, 10, Long.MAX_VALUE));
    assertTrue(below.getMessage().contains("was compacted"), below.getMessage());
  }

  // AppendEntries batches are capped by count and by bytes, but carry at least one entry (else a large entry
  // could never be sent).
  @Test
  void sliceIsCappedByCountAndBytesButCarriesAtLeastOneEntry() {
    RaftLog log = new RaftLog(entries(1, 1, 1, 1, 1, 1)); // entries 1..5; each entry's approximate size: 2 bytes + 24
    int size = log.get(1).approximateSize();
    assertEquals(26, size);
    assertEquals(List.of(2L, 3L), indexes(log.slice(2, 2, Long.MAX_VALUE)));
    assertEquals(List.of(2L, 3L), indexes(log.slice(2, 10, 2L * size)), "exactly two entries' worth of bytes");
    assertEquals(List.of(2L, 3L), indexes(log.slice(2, 10, 3L * size - 1)));
    assertEquals(List.of(2L), indexes(log.slice(2, 10, 1)), "one entry even if it alone is over the cap");
    assertEquals(List.of(4L, 5L), indexes(log.slice(4, 10, Long.MAX_VALUE)));
  }

  // Log Matching needs contiguous indexes, and terms never decrease along a log (5.3).
  @Test
  void appendRefusesAGapAndADecreasingTerm() {
    RaftLog log = new RaftLog(entries(1, 2, 2));
    assertThrows(IllegalStateException.class, () -> log.append(LogEntry.noop(4, 2)));
    assertThrows(IllegalStateException.class, () -> log.append(LogEntry.noop(2, 2)));
    assertThrows(IllegalStateException.class, () -> log.append(LogEntry.noop(3, 1)));
    log.append(LogEntry.noop(3, 2));
    assertEquals(3, log.lastIndex());
  }

  // Figure 2, AppendEntries step 3 deletes a conflicting suffix; compacted (committed) entries are never cut.
  @Test
  void truncationCountsEachCutAndNeverReachesTheSnapshot() {
    RaftLog log = compacted();
    assertThrows(IllegalStateException.class, () -> log.truncateFrom(5));
    assertThrows(IllegalStateException.class, () -> log.truncateFrom(4));
    log.truncateFrom(9); // past the end: nothing to cut
    log.truncateFrom(12);
    assertEquals(0, log.truncations());
    assertEquals(8, log.lastIndex());
    log.truncateFrom(7);
    assertEquals(6, log.lastIndex());
    assertEquals(1, log.truncations());
    log.reset(20, 4); // Figure 13 step 7: discard the entire log
    assertEquals(2, log.truncations());
    assertEquals(20, log.lastIndex());
    assertEquals(4, log.lastTerm());
  }

  @Test
  void compactionStopsAtTheLogEnd() {
    RaftLog log = compacted();
    assertThrows(IllegalStateException.class, () -> log.compactTo(9));
    log.compactTo(7);
    assertEquals(7, log.baseIndex());
    assertEquals(3, log.termAt(7));
    assertEquals(8, log.lastIndex());
  }

  // The conflict hint (section 5.3's optimization): the last index of a term, also when that is the base.
  @Test
  void lastIndexOfTermFindsTheSnapshotsLastEntry() {
    RaftLog log = compacted();
    assertEquals(6, log.lastIndexOfTerm(2));
    assertEquals(8, log.lastIndexOfTerm(3));
    assertEquals(0, log.lastIndexOfTerm(1));
    RaftLog onlyBase = new RaftLog(5, 2, entries(6, 3));
    assertEquals(5, onlyBase.lastIndexOfTerm(2));
  }

  // Section 7: compacting to what is already compacted changes nothing (a snapshot older than the log's base).
  @Test
  void compactingToOrBelowTheBaseChangesNothing() {
    RaftLog log = compacted();
    log.compactTo(5);
    log.compactTo(3);
    assertEquals(5, log.baseIndex());
    assertEquals(2, log.termAt(5));
    assertEquals(List.of(6L, 7L, 8L), indexes(log.slice(6, 10, Long.MAX_VALUE)));
  }

  // The conflict hint with a term older than the base's, and over a log that was never compacted.
  @Test
  void lastIndexOfTermBelowTheBaseOrInAWholeLog() {
    RaftLog log = new RaftLog(5, 3, entries(6, 3, 4));
    assertEquals(0, log.lastIndexOfTerm(2));
    assertEquals(6, log.lastIndexOfTerm(3));
    RaftLog whole = new RaftLog(0, 0, entries(1, 1, 1, 3));
    assertEquals(0, whole.lastIndexOfTerm(0));
    assertEquals(2, whole.lastIndexOfTerm(1));
    assertEquals(0, whole.lastIndexOfTerm(2));
    assertEquals(3, whole.lastIndexOfTerm(3));
    assertEquals(0, new RaftLog(0, 0, List.of()).lastIndexOfTerm(1));
  }

  private static List<Long> indexes(List<LogEntry> entries) {
    return entries.stream().map(LogEntry::index).toList();
  }
}
