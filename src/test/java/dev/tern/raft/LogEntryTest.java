package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** A log entry (Figure 2, "log[]": each entry has a command and the term it was received in; indexes start at 1). */
class LogEntryTest {

  @Test
  void indexesAndTermsStartAtOne() {
    assertThrows(IllegalArgumentException.class, () -> LogEntry.noop(0, 1));
    assertThrows(IllegalArgumentException.class, () -> LogEntry.noop(1, 0));
    assertEquals(1, LogEntry.noop(1, 1).term());
  }

  @Test
  void aCommandWithoutDataCarriesEmptyData() {
    assertArrayEquals(new byte[0], LogEntry.command(1, 1, null).data());
  }

  // Entries are compared by content (index, term, kind, bytes), as Log Matching compares them.
  @Test
  void equalityIsByContent() {
    LogEntry a = LogEntry.command(2, 1, new byte[] {1, 2});
    LogEntry same = LogEntry.command(2, 1, new byte[] {1, 2});
    assertEquals(a, same);
    assertEquals(a.hashCode(), same.hashCode());
    assertNotEquals(a, LogEntry.command(2, 1, new byte[] {1, 3}));
    assertNotEquals(a, LogEntry.command(2, 2, new byte[] {1, 2}));
    assertNotEquals(a, LogEntry.noop(2, 1));
    assertNotEquals(a.hashCode(), LogEntry.command(2, 1, new byte[] {9}).hashCode());
  }

  // Only a CONFIG entry carries a configuration (dissertation 4.1); asking another entry for one is a bug.
  @Test
  void onlyAConfigurationEntryHasAConfiguration() {
    Configuration c = Configuration.ofVoters(java.util.List.of("n1", "n2"));
    assertEquals(c, LogEntry.config(2, 1, c).configuration());
    assertThrows(IllegalStateException.class,
        () -> LogEntry.command(3, 1, c.encode()).configuration());
    assertThrows(IllegalStateException.class, () -> LogEntry.noop(1, 1).configuration());
  }

  // Section 7: a snapshot covers at least entry 1, and terms start at 1.
  @org.junit.jupiter.params.ParameterizedTest(name = "index {0}, term {1}: valid {2}")
  @org.junit.jupiter.params.provider.CsvSource({"1,1,true", "0,1,false", "1,0,false", "-1,5,false", "7,2,true"})
  void aSnapshotCoversEntryOneAtLeastInTermOneAtLeast(long index, long term, boolean valid) {
    if (valid) {
      SnapshotMeta m = new SnapshotMeta(index, term, java.util.List.of("n1"));
      assertEquals(java.util.List.of("n1"), m.members());
    } else {
      assertThrows(IllegalArgumentException.class,
          () -> new SnapshotMeta(index, term, java.util.List.of("n1")));
    }
  }
}
