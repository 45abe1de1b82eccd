package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.entries;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.tern.raft.RaftFixtures.GatedStorage;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.InstallSnapshot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Figure 2 "Leaders" (last bullet) with section 10.2.1 of Ongaro's dissertation: a leader counts itself in a
 * majority only for entries durable on its own disk. What an earlier write made durable stops counting where the
 * log was cut (AppendEntries receiver step 3, InstallSnapshot step 7): the entries that later take those indexes
 * are durable only once their own write is. In a five-server cluster a candidate can win on three other votes
 * before its own writes are durable, and then lead with those writes still pending.
 */
class DurableIndexRuleTest {

  /** Wins term {@code term} on the votes of n2, n4 and n5 alone, flushes its no-op; forgets what it sent. */
  private static void winWithoutOwnDurableVote(Replica r, long term) {
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertEquals(term, r.status().term());
    for (String peer : List.of("n2", "n4", "n5")) r.run(new RaftMessage.RequestVoteResponse(term, peer, true));
    assertInstanceOf(Leader.class, r.behavior());
    r.runSelf();
    r.transport.drain();
  }

  // Receiver step 3 cuts entries 3..5, which were durable; the entry written at 3 is not yet. As leader of term 3,
  // with its no-op at 4 acknowledged by n3 and n4 only, it must not count itself: 4 is on two servers of five.
  @Test
  void entriesWrittenWhereTheLogWasCutCountOnlyOnceTheirWriteIsDurable() {
    GatedStorage st = new GatedStorage(1, null, 1, 1, 1, 1, 1);
    Replica r = RaftFixtures.replica(st, RaftFixtures.FOUR_PEERS);
    r.run(new AppendEntries(2, "n2", 2, 1, entries(3, 2), 0)); // n2 led term 2 with 3@2: 3..5@1 are cut
    assertEquals(3, r.log().lastIndex());
    winWithoutOwnDurableVote(r, 3);
    assertEquals(4, r.log().lastIndex(), "the no-op of term 3");

    r.run(AppendEntriesResponse.success(3, "n3", 4));
    r.run(AppendEntriesResponse.success(3, "n4", 4));
    assertEquals(0, r.status().commitIndex(), "counted itself for an entry not yet on its disk");

    r.run(new RaftMessage.StorageSynced(st.syncAll()));
    assertEquals(4, r.status().commitIndex(), "n1, n3, n4 hold 4 once n1's writes are durable");
  }

  // InstallSnapshot step 7 discards a log whose write (3..6 of term 2) was still pending. When that older write
  // becomes durable, it must count only up to the snapshot's index (4), not to the 6 it once reached: the no-op
  // the node writes at 5 as leader is still in flight.
  @Test
  void aWritePendingWhenASnapshotReplacedTheLogCountsOnlyUpToTheSnapshot() throws IOException {
    GatedStorage st = new GatedStorage(1, null, 1, 1);
    Replica r = RaftFixtures.replica(st, RaftFixtures.FOUR_PEERS);
    r.run(new AppendEntries(2, "n2", 2, 1, entries(3, 2, 2, 2, 2), 0));
    long logWrite = st.lastSubmitted();
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    EntryListCodec.write(data, RaftFixtures.log(1, 1, 3, 3));
    byte[] bytes = data.toByteArray();
    r.run(new InstallSnapshot(3, "n3", 4, 3, List.of("n1", "n2", "n3", "n4", "n5"), 0, bytes, true));
    r.runSelf(); // the stored snapshot reports back: installed, the log discarded (4@3 differs from 4@2)
    assertEquals(4, r.log().lastIndex());
    assertEquals(1, r.sm.restores);

    r.run(new RaftMessage.StorageSynced(st.syncTo(logWrite))); // the older write only
    winWithoutOwnDurableVote(r, 4);
    assertEquals(5, r.log().lastIndex(), "the no-op of term 4");
    r.run(AppendEntriesResponse.success(4, "n2", 5));
    r.run(AppendEntriesResponse.success(4, "n4", 5));
    assertEquals(4, r.status().commitIndex(), "counted itself for its no-op, which is not yet on its disk");

    r.run(new RaftMessage.StorageSynced(st.syncAll()));
    assertEquals(5, r.status().commitIndex());
  }
}
