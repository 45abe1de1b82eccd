package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.storage;
import static dev.tern.raft.RaftFixtures.terms;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.AppendEntriesTo;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * How the leader uses a follower's rejection hint to find where their logs agree: section 5.3, the
 * optimisation described after Figure 7 (back up a whole term per rejection), on Figure 7's leader log.
 */
class ConflictHintRuleTest {
  /** Figure 7's leader log (indexes 1-10); as leader of term 8 it appends its no-op at 11. */
  private static final long[] FIGURE7_LEADER = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};

  /** Figure 7's leader, elected in term 8; its first AppendEntries (prevLogIndex 10) wait in its transport. */
  private static Replica figure7LeaderWithFirstProbePending() {
    Replica r = replica(storage(7, null, FIGURE7_LEADER));
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    r.transport.drain();
    r.run(new RaftMessage.RequestVoteResponse(8, "n2", true));
    assertTrue(r.behavior() instanceof Leader);
    assertEquals(11, r.status().lastLogIndex());
    return r;
  }

  private static Replica figure7Leader() {
    Replica r = figure7LeaderWithFirstProbePending();
    r.transport.drain();
    return r;
  }

  /** The single AppendEntries the leader sent n2 since the last drain. */
  private static AppendEntries nextTo(Replica leader) {
    List<AppendEntries> toN2 =
        leader.appendsSent().stream().filter(s -> s.to().equals("n2")).map(AppendEntriesTo::ae).toList();
    assertEquals(1, toN2.size(), "expected one AppendEntries to n2, got " + toN2);
    return toN2.get(0);
  }

  // Section 5.3: the first probe goes at nextIndex = leader's last index + 1 (before its no-op).
  @Test
  void firstProbeIsAtTheLeadersLastIndex() {
    AppendEntries first = nextTo(figure7LeaderWithFirstProbePending());
    assertEquals(10, first.prevLogIndex());
    assertEquals(6, first.prevLogTerm());
  }

  // Section 5.3: the follower's log ends before prevLogIndex (conflictTerm 0): retry right after its end.
  @Test
  void shortFollowerLogRetriesAfterItsEnd() {
    Replica r = figure7Leader();
    r.run(AppendEntriesResponse.reject(8, "n2", 10, 8, 0)); // follower's log ends at 7
    AppendEntries next = nextTo(r);
    assertEquals(7, next.prevLogIndex());
    assertEquals(5, next.prevLogTerm());
    assertEquals(List.of(8L, 9L, 10L, 11L), next.entries().stream().map(LogEntry::index).toList());
  }

  // Section 5.3: the leader has entries of the follower's conflicting term (4): by Log Matching the logs
  // agree up to the leader's last entry of that term, so nextIndex = that index + 1.
  @Test
  void conflictTermTheLeaderHasResumesAfterItsLastEntryOfThatTerm() {
    Replica r = figure7Leader();
    r.run(AppendEntriesResponse.reject(8, "n2", 10, 4, 4)); // follower has term 4 from index 4 to 10
    AppendEntries next = nextTo(r);
    assertEquals(5, next.prevLogIndex());
    assertEquals(4, next.prevLogTerm());
  }

  // Section 5.3: the leader has no entry of the conflicting term (3): skip the follower's whole term, next =
  // conflictIndex (the first index of that term in the follower's log).
  @Test
  void conflictTermTheLeaderLacksSkipsTheFollowersWholeTerm() {
    Replica r = figure7Leader();
    r.run(AppendEntriesResponse.reject(8, "n2", 10, 7, 3)); // follower has term 3 from index 7
    AppendEntries next = nextTo(r);
    assertEquals(6, next.prevLogIndex());
    assertEquals(5, next.prevLogTerm());
  }

  // Progress probe rule: a rejection that does not answer the outstanding probe is stale and ignored.
  @Test
  void staleRejectionIsIgnored() {
    Replica r = figure7Leader();
    r.run(AppendEntriesResponse.reject(8, "n2", 5, 4, 4)); // the probe in flight is at 10, not 5
    assertTrue(r.appendsSent().isEmpty());
    assertEquals(11, ((Leader) r.behavior()).progressOf("n2").nextIndex);
  }

  static Stream<Arguments> figure7Followers() {
    return Stream.of(
        Arguments.of("a", new long[] {1, 1, 1, 4, 4, 5, 5, 6, 6}, 1),
        Arguments.of("b", new long[] {1, 1, 1, 4}, 1),
        Arguments.of("c", new long[] {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}, 0),
        Arguments.of("d", new long[] {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}, 0),
        Arguments.of("e", new long[] {1, 1, 1, 4, 4, 4, 4}, 2),
        Arguments.of("f", new long[] {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}, 2));
  }

  // Figure 7 end to end: the leader and a real follower exchange messages until the follower's log equals the
  // leader's (Log Matching, section 5.3), with at most one rejection per conflicting term.
  @ParameterizedTest(name = "follower ({0})")
  @MethodSource("figure7Followers")
  void figure7FollowersConvergeWithOneRejectionPerTerm(String name, long[] followerLog, int maxRejections) {
    Replica leader = figure7LeaderWithFirstProbePending();
    Replica follower = new Replica("n2", List.of("n1", "n3"), TestSettings.DEFAULTS, storage(7, null, followerLog),
        new RecordingStateMachine(), 2);
    int rejections = 0;
    for (int round = 0; round < 20; round++) {
      List<AppendEntries> toN2 =
          leader.appendsSent().stream().filter(s -> s.to().equals("n2")).map(AppendEntriesTo::ae).toList();
      if (toN2.isEmpty()) break;
      for (AppendEntries ae : toN2) follower.run(ae);
      for (CapturingTransport.Sent s : follower.transport.drain()) {
        AppendEntriesResponse resp = (AppendEntriesResponse) s.message();
        if (!resp.success()) rejections++;
        leader.run(resp);
      }
    }
    assertArrayEquals(terms(leader.log().entries()), terms(follower.log().entries()));
    assertEquals(leader.log().entries(), follower.log().entries());
    assertTrue(rejections <= maxRejections, "rejections: " + rejections);
    assertEquals(11, ((Leader) leader.behavior()).progressOf("n2").matchIndex);
  }
}
