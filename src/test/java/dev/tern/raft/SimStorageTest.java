package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The simulation's disk faults behave as FileStorage's recovery promises: after a crash the log is a prefix of
 * what was written, every entry whole, and a failed fsync makes nothing more durable.
 */
class SimStorageTest {
  private static SimStorage storage() {
    return new SimStorage(new SimStorage.Disk() {
      @Override
      public void scheduleFsync(SimStorage storage, long upToTicket) {} // the test syncs by hand

      @Override
      public void later(Runnable io) {
        io.run();
      }
    });
  }

  private static LogEntry entry(long index, long term) {
    return LogEntry.command(index, term, ("command-" + index).getBytes(StandardCharsets.UTF_8));
  }

  private static List<LogEntry> entries(long from, long to, long term) {
    List<LogEntry> out = new ArrayList<>();
    for (long i = from; i <= to; i++) out.add(entry(i, term));
    return out;
  }

  /**
   * A crash while writing leaves the synced log and then a prefix of the unsynced operations, never a half
   * entry: a torn last record is cut off on recovery. The hard state is the old one or the newest unsynced one.
   */
  @Test
  void aTornWriteRecoversAPrefixOfWholeEntries() {
    int torn = 0;
    int tornRecords = 0;
    for (int seed = 0; seed < 200; seed++) {
      SimStorage s = storage();
      s.submit(new RaftStorage.Write(new HardState(1, "n1"), 0, entries(1, 3, 1)));
      s.sync();
      // Unsynced: the tail from 3 replaced by a new leader's entries, then more of them, with a new term.
      s.submit(new RaftStorage.Write(new HardState(2, "n2"), 0, List.of()));
      s.submit(new RaftStorage.Write(null, 3, entries(3, 5, 2)));
      s.submit(new RaftStorage.Write(null, 0, entries(6, 8, 2)));
      s.crash(new Random(seed));
      RaftStorage.Persisted p = s.load();
      HardState hs = p.hardState();
      assertTrue(hs.equals(new HardState(1, "n1")) || hs.equals(new HardState(2, "n2")), "seed " + seed + ": " + hs);
      List<LogEntry> log = p.log();
      assertTrue(log.size() >= 2, "seed " + seed + ": lost synced entries: " + log);
      for (int i = 0; i < log.size(); i++) {
        LogEntry e = log.get(i);
        assertEquals(i + 1, e.index());
        LogEntry whole = i < 2 ? entry(i + 1, 1) : e.term() == 1 ? entry(i + 1, 1) : entry(i + 1, 2);
        assertTrue(whole.sameAs(e), "seed " + seed + ": not a whole entry: " + e);
      }
      if (log.stream().anyMatch(e -> e.term() == 2)) assertEquals(new HardState(2, "n2"), hs, "entries of a term its hard state lacks");
      torn += s.tornCrashes;
      tornRecords += s.tornRecordsDiscarded;
    }
    assertTrue(torn > 0 && tornRecords > 0, "no torn write in 200 seeds: " + torn + ", " + tornRecords);
  }

  /** After a failed fsync nothing becomes durable, writes are refused, and a restart finds what was durable. */
  @Test
  void aFailedFsyncMakesNothingMoreDurable() {
    SimStorage s = storage();
    int[] failures = {0};
    long[] durable = {0};
    s.onFailure(() -> failures[0]++);
    s.onDurable(t -> durable[0] = t);
    s.submit(new RaftStorage.Write(new HardState(1, "n1"), 0, entries(1, 2, 1)));
    s.sync();
    assertEquals(1, durable[0]);
    s.failNextFsync();
    s.submit(new RaftStorage.Write(null, 0, entries(3, 4, 1)));
    s.sync();
    assertTrue(s.failed());
    assertEquals(1, failures[0]);
    assertEquals(1, s.durableTicket(), "the failed batch is not durable");
    assertEquals(1, durable[0], "nobody was told otherwise");
    assertThrows(IllegalStateException.class, () -> s.submit(new RaftStorage.Write(null, 0, entries(5, 5, 1))));
    s.sync();
    assertEquals(1, s.durableTicket(), "a later fsync does not revive it");
    s.crash();
    assertFalse(s.failed(), "a restart opens the disk afresh");
    assertEquals(entries(1, 2, 1), s.load().log());
  }
}
