package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.GatedStorage;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The guards of the state every role shares (Figure 2, "State" and "Rules for Servers"): what must never happen
 * to the term, the commit index and committed entries, and that replies wait for storage only when there is
 * something to wait for.
 */
class ReplicaStateRuleTest {

  // Figure 2 "All Servers": currentTerm only increases.
  @Test
  void theTermNeverGoesBackOrStays() {
    Replica r = replica(storage(3, null));
    ReplicaState s = r.behavior().s;
    assertThrows(IllegalStateException.class, () -> s.advanceTerm(3));
    assertThrows(IllegalStateException.class, () -> s.advanceTerm(2));
    s.advanceTerm(4);
    assertEquals(4, s.currentTerm);
  }

  // Figure 2: commitIndex is the highest entry known committed, so it can never pass the log's end.
  @Test
  void commitIndexCannotPassTheLogEnd() {
    Replica r = replica(storage(1, null, 1, 1));
    ReplicaState s = r.behavior().s;
    assertThrows(IllegalStateException.class, () -> s.commitTo(3));
    s.commitTo(2);
    assertEquals(2, s.commitIndex);
  }

  // State Machine Safety (Figure 3): a committed entry is never truncated, the last committed one included.
  @Test
  void theLastCommittedEntryIsNeverTruncated() {
    Replica r = replica(storage(1, null, 1, 1, 1));
    r.run(new AppendEntries(1, "n2", 3, 1, List.of(), 2)); // commits 1..2
    ReplicaState s = r.behavior().s;
    assertEquals(2, s.commitIndex);
    assertThrows(IllegalStateException.class, () -> s.writeLog(2, List.of()));
    s.writeLog(3, List.of());
    assertEquals(2, r.log().lastIndex());
  }

  // Figure 2: servers respond after updating stable storage. A replica with nothing unwritten answers at once:
  // a refusal of a stale AppendEntries right after start-up, and a heartbeat that changes nothing, wait for no
  // write.
  @Test
  void repliesThatDependOnNoNewWriteAreNotHeld() {
    GatedStorage st = new GatedStorage(2, null, 1, 2);
    Replica r = replica(st);
    AppendEntriesResponse stale =
        r.onlyReply(new AppendEntries(1, "n2", 0, 0, List.of(), 0), AppendEntriesResponse.class);
    assertFalse(stale.success());
    AppendEntriesResponse heartbeat =
        r.onlyReply(new AppendEntries(2, "n2", 2, 2, List.of(), 0), AppendEntriesResponse.class);
    assertTrue(heartbeat.success());
    assertEquals(2, heartbeat.matchIndex());
  }

  // A node's peers are the others: listing a node among its own peers is a configuration error, refused at start.
  @Test
  void aNodeIsNotItsOwnPeer() {
    assertEquals("peers must not include this node n1",
        assertThrows(IllegalArgumentException.class, () -> RaftReplica.bootstrapOf("n1", List.of("n1", "n2"))).getMessage());
    assertEquals(Configuration.ofVoters(List.of("n1", "n2", "n3")), RaftReplica.bootstrapOf("n1", List.of("n3", "n2")));
    List<ReplicaState> seen = new java.util.ArrayList<>();
    org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit.create(RaftReplica.create("n1", List.of("n2"),
        TestSettings.DEFAULTS, new dev.tern.storage.InMemoryStorage(), new RecordingStateMachine(),
        new CapturingTransport(), new java.util.Random(1), seen::add));
    assertEquals(1, seen.size());
    assertEquals(Configuration.ofVoters(List.of("n1", "n2")), seen.get(0).configuration());
  }
}
