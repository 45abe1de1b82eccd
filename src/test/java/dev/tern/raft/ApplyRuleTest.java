package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.TWO_PEERS;
import static dev.tern.raft.RaftFixtures.entries;
import static dev.tern.raft.RaftFixtures.log;
import static dev.tern.raft.RaftFixtures.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Applying to the state machine, Figure 2 "All Servers": if commitIndex > lastApplied, increment lastApplied
 * and apply log[lastApplied] - in log order, each entry exactly once (RecordingStateMachine throws otherwise).
 */
class ApplyRuleTest {

  private static Replica follower(InMemoryStorage st, RecordingStateMachine sm) {
    return new Replica("n1", TWO_PEERS, TestSettings.DEFAULTS, st, sm, 1);
  }

  private static AppendEntries heartbeat(long prev, long commit) {
    return new AppendEntries(1, "n2", prev, 1, List.of(), commit);
  }

  // Figure 2 All Servers: committed entries are applied in index order, each once, and nothing uncommitted.
  @Test
  void committedEntriesAreAppliedInOrderExactlyOnce() {
    Replica r = follower(storage(1, null), new RecordingStateMachine());
    r.run(new AppendEntries(1, "n2", 0, 0, entries(1, 1, 1, 1, 1, 1), 0));
    assertTrue(r.sm.applied().isEmpty(), "applied an uncommitted entry");

    r.run(heartbeat(5, 2));
    assertEquals(log(1, 1), r.sm.applied());
    r.run(heartbeat(5, 4));
    r.run(heartbeat(5, 4)); // duplicate: nothing is applied twice
    r.run(heartbeat(3, 2)); // late: commitIndex never goes back
    assertEquals(log(1, 1, 1, 1), r.sm.applied());
    r.run(heartbeat(5, 5));
    assertEquals(log(1, 1, 1, 1, 1), r.sm.applied());
    assertEquals(5, r.status().lastApplied());
  }

  // Figure 2 All Servers + section 5.3: what is applied is the entry that was committed at that index, not
  // one a new leader has since overwritten.
  @Test
  void appliesTheCommittedEntryNotASupersededOne() {
    Replica r = follower(storage(1, null), new RecordingStateMachine());
    r.run(new AppendEntries(1, "n2", 0, 0, entries(1, 1, 1, 1), 1));
    r.run(new AppendEntries(2, "n3", 1, 1, entries(2, 2), 2));
    assertEquals(List.of(log(1).get(0), entries(2, 2).get(0)), r.sm.applied());
  }

  // Figure 2 ("Volatile state ... lastApplied"): a replica restarted with a state machine that already holds
  // a prefix resumes after it - entries 1-3 are not applied a second time.
  @Test
  void restartResumesAfterWhatTheStateMachineAlreadyApplied() {
    InMemoryStorage st = storage(1, null, 1, 1, 1, 1, 1);
    RecordingStateMachine sm = new RecordingStateMachine();
    for (LogEntry e : log(1, 1, 1)) sm.apply(e);
    Replica r = follower(st, sm);
    assertEquals(3, r.status().commitIndex());
    assertEquals(3, r.status().lastApplied());

    r.run(heartbeat(5, 5));
    assertEquals(log(1, 1, 1, 1, 1), sm.applied());
  }

  // Figure 2 All Servers, on the leader: it applies its committed entries in order as well.
  @Test
  void leaderAppliesInOrderExactlyOnce() {
    Replica r = RaftFixtures.replica(storage(1, null, 1, 1));
    r.electLeader(); // term 2, no-op at 3
    r.propose("a");
    r.runSelf();
    r.run(RaftMessage.AppendEntriesResponse.success(2, "n2", 4));
    r.run(RaftMessage.AppendEntriesResponse.success(2, "n3", 4));
    r.run(RaftMessage.AppendEntriesResponse.success(2, "n2", 4));
    assertEquals(List.of(1L, 2L, 3L, 4L), r.sm.applied().stream().map(LogEntry::index).toList());
    assertEquals(LogEntry.Kind.NOOP, r.sm.applied().get(2).kind());
    assertEquals("a", RaftFixtures.string(r.sm.applied().get(3).data()));
  }
}
