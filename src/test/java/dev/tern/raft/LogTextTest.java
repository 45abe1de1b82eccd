package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The text of log lines and of the simulation's traces: entries, requests and followers' progress are named by
 * what a reader needs (indexes, terms, sizes, modes), never by their whole contents, which run to megabytes.
 */
class LogTextTest {

  @Test
  void anEntryIsItsIndexTermAndKindOrSize() {
    assertEquals("LogEntry[7@3 noop]", LogEntry.noop(7, 3).toString());
    assertEquals("LogEntry[8@3 5B]", LogEntry.command(8, 3, new byte[5]).toString());
  }

  @Test
  void anAppendEntriesNamesTheRangeOfItsEntriesNotEachOne() {
    List<LogEntry> two = List.of(LogEntry.command(5, 2, new byte[1]), LogEntry.command(6, 2, new byte[1]));
    assertEquals("AppendEntries[term=2, from=n1, prev=4@1, entries=5..6, leaderCommit=3, readRound=9]",
        new RaftMessage.AppendEntries(2, "n1", 4, 1, two, 3, 9).toString());
    assertEquals("AppendEntries[term=2, from=n1, prev=4@1, entries=none, leaderCommit=3]",
        new RaftMessage.AppendEntries(2, "n1", 4, 1, List.of(), 3).toString());
  }

  @Test
  void anInstallSnapshotPieceIsItsSnapshotOffsetAndSize() {
    assertEquals("InstallSnapshot[term=4, from=n2, snapshot=90@3, offset=64, 16B]",
        new RaftMessage.InstallSnapshot(4, "n2", 90, 3, List.of("n1", "n2"), 64, new byte[16], false).toString());
    assertEquals("InstallSnapshot[term=4, from=n2, snapshot=90@3, offset=80, 2B, done]",
        new RaftMessage.InstallSnapshot(4, "n2", 90, 3, List.of("n1", "n2"), 80, new byte[2], true).toString());
  }

  @Test
  void aFollowersProgressIsItsIndexesModeAndWhatIsInFlight() {
    Progress p = new Progress("n2", 11);
    p.acknowledged(10);
    p.sent(12);
    assertEquals("n2{next=13, match=10, replicate, inflight=1}", p.toString());
    p.sentLarge(13, 1 << 20);
    assertEquals("n2{next=14, match=10, replicate, inflight=2, large 13}", p.toString());
    p.probeFrom(11);
    assertEquals("n2{next=11, match=10, probe, inflight=0}", p.toString());
    p.startSnapshot(new SnapshotMeta(50, 3, List.of("n1", "n2")));
    p.snapshotOffset = 128;
    assertEquals("n2{next=11, match=10, probe, inflight=0, snapshot 50 at 128}", p.toString());
  }

  @Test
  void aConfigurationEntrySaysSo() {
    assertEquals("LogEntry[9@3 config]", LogEntry.config(9, 3, Configuration.ofVoters(List.of("n1"))).toString());
  }
}
