package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.AppendEntriesTo;
import dev.tern.raft.RaftFixtures.GatedStorage;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.storage.InMemoryStorage;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The leader's commit rule: Figure 2 "Leaders" (last bullet), section 5.4.2 and Figure 8. */
class CommitRuleTest {
  /** One entry per AppendEntries, so that an old-term entry can be replicated without the leader's no-op. */
  private static final RaftSettings ONE_ENTRY_PER_REQUEST =
      new RaftSettings(Duration.ofMillis(300), Duration.ofMillis(600), Duration.ofMillis(50), 1, 1 << 20, 8);

  private static List<Long> appliedIndexes(Replica r) {
    return r.sm.applied().stream().map(LogEntry::index).toList();
  }

  /** Delivers the leader's requests for {@code follower.id} to it and its replies back. */
  private static void exchange(Replica leader, Replica follower) {
    List<AppendEntries> sent = leader.appendsSent().stream()
        .filter(s -> s.to().equals(follower.id)).map(AppendEntriesTo::ae).toList();
    assertEquals(1, sent.size(), sent.toString());
    follower.run(sent.get(0));
    for (CapturingTransport.Sent s : follower.transport.drain()) leader.run(s.message());
  }

  // Figure 8 / section 5.4.2: a leader of term 4 holding an entry of term 2 that is on a majority (itself
  // and n2) must not commit it by counting replicas; once its own term-4 entry is on a majority, that commits
  // it and, indirectly, everything before it (Log Matching).
  @Test
  void figure8OldTermEntryOnAMajorityIsNotCommittedUntilAnEntryOfTheCurrentTermIs() {
    Replica leader = new Replica("n1", List.of("n2", "n3"), ONE_ENTRY_PER_REQUEST, storage(3, null, 1, 2),
        new RecordingStateMachine(), 1);
    leader.run(RaftMessage.ElectionTimeout.INSTANCE);
    leader.transport.drain();
    leader.run(new RaftMessage.RequestVoteResponse(4, "n2", true));
    assertInstanceOf(Leader.class, leader.behavior());
    assertEquals(LogEntry.noop(3, 4), leader.log().get(3));
    // n2 holds only index 1 (it missed the term-2 entry).
    Replica n2 = new Replica("n2", List.of("n1", "n3"), TestSettings.DEFAULTS, storage(3, "n1", 1),
        new RecordingStateMachine(), 2);

    exchange(leader, n2); // probe at 2 is rejected: n2's log ends at 1
    exchange(leader, n2); // index 2 (term 2) alone is sent and acknowledged
    assertEquals(2, ((Leader) leader.behavior()).progressOf("n2").matchIndex);
    assertEquals(0, leader.status().commitIndex(), "term-2 entry committed by counting replicas (Figure 8)");
    assertTrue(leader.sm.applied().isEmpty());

    exchange(leader, n2); // the term-4 no-op reaches n2: now on a majority
    assertEquals(3, leader.status().commitIndex());
    assertEquals(List.of(1L, 2L, 3L), appliedIndexes(leader));
  }

  // Figure 8 (section 5.4.2): even on *every* server, an entry of an older term is not committed by counting.
  @Test
  void oldTermEntryOnEveryServerIsStillNotCommittedByCounting() {
    Replica leader = new Replica("n1", List.of("n2", "n3"), ONE_ENTRY_PER_REQUEST, storage(3, null, 1, 2),
        new RecordingStateMachine(), 1);
    leader.electLeader();
    for (String peer : List.of("n2", "n3")) {
      leader.run(AppendEntriesResponse.reject(4, peer, 2, 2, 0));
      leader.run(AppendEntriesResponse.success(4, peer, 2));
    }
    assertEquals(0, leader.status().commitIndex());
    leader.run(AppendEntriesResponse.success(4, "n3", 3));
    assertEquals(3, leader.status().commitIndex());
  }

  // Figure 2 Leaders: the commit index is the highest N held by a majority - in a five-server cluster, two
  // followers plus the leader.
  @Test
  void commitIndexIsTheMajorityMatchInAFiveServerCluster() {
    Replica leader = RaftFixtures.replica(new InMemoryStorage(), RaftFixtures.FOUR_PEERS);
    leader.electLeader(); // term 1, no-op at 1
    leader.propose("a");
    leader.propose("b");
    leader.runSelf();
    leader.run(AppendEntriesResponse.success(1, "n2", 3));
    assertEquals(0, leader.status().commitIndex(), "2 of 5 is not a majority");
    leader.run(AppendEntriesResponse.success(1, "n3", 1));
    assertEquals(1, leader.status().commitIndex(), "index 1 is on n1, n2, n3; index 3 only on n1, n2");
    leader.run(AppendEntriesResponse.success(1, "n4", 3));
    assertEquals(3, leader.status().commitIndex());
    assertEquals(List.of(1L, 2L, 3L), appliedIndexes(leader));
  }

  // Figure 2 Leaders / Ongaro's dissertation 10.2.1: the leader counts itself in the majority only for
  // entries that are durable in its own storage.
  @Test
  void leaderCountsItselfOnlyForDurableEntries() {
    GatedStorage st = new GatedStorage(0, null);
    Replica leader = RaftFixtures.replica(st);
    leader.run(RaftMessage.ElectionTimeout.INSTANCE);
    leader.run(new RaftMessage.StorageSynced(st.syncAll()));
    leader.run(new RaftMessage.RequestVoteResponse(1, "n2", true));
    assertInstanceOf(Leader.class, leader.behavior());
    assertEquals(1, st.inner.entries().size(), "no-op submitted");

    leader.run(AppendEntriesResponse.success(1, "n2", 1));
    assertEquals(0, leader.status().commitIndex(), "counted its own non-durable entry");

    leader.run(new RaftMessage.StorageSynced(st.syncAll()));
    assertEquals(1, leader.status().commitIndex());
    assertEquals(List.of(1L), appliedIndexes(leader));
  }
}
