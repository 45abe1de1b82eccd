package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tern.storage.InMemoryStorage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.pekko.actor.testkit.typed.javadsl.BehaviorTestKit;
import org.junit.jupiter.api.Test;

/**
 * The node's metrics count elections and leader changes through {@link RaftObserver}: it must hear of every
 * election this node starts (section 5.2; not a pre-vote, dissertation 9.6) and of every leader it learns, whether
 * it won (5.2), heard an AppendEntries (5.3) or an InstallSnapshot (section 7, Figure 13) of the leader's term.
 */
class RaftObserverRuleTest {
  static final Configuration THREE = Configuration.ofVoters(List.of("n1", "n2", "n3"));

  /** What the replica told its observer, one line per call. */
  private final List<String> told = new ArrayList<>();
  private final RaftObserver observer = new RaftObserver() {
    @Override
    public void electionStarted(long term) {
      told.add("election " + term);
    }

    @Override
    public void leaderChanged(long term, String leaderId) {
      told.add("leader " + leaderId + " in " + term);
    }
  };

  private BehaviorTestKit<RaftMessage> replica(RaftSettings settings) {
    return BehaviorTestKit.create(RaftReplica.createObserved("n1", THREE, settings, new InMemoryStorage(),
        new RecordingStateMachine(), new CapturingTransport(), new Random(1), c -> {}, observer));
  }

  // Section 5.2: a timeout starts an election in a new term; a majority of votes makes the candidate leader.
  @Test
  void aWonElectionIsAnElectionAndANewLeader() {
    BehaviorTestKit<RaftMessage> kit = replica(TestSettings.DEFAULTS);
    kit.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertEquals(List.of("election 1"), told);
    kit.run(new RaftMessage.RequestVoteResponse(1, "n2", true));
    assertEquals(List.of("election 1", "leader n1 in 1"), told);
    kit.run(RaftMessage.ElectionTimeout.INSTANCE); // a stale timer: a leader ignores it
    assertEquals(2, told.size(), "nothing more: " + told);
  }

  // Dissertation 9.6: a pre-vote asks without raising the term; only the real election that follows counts.
  @Test
  void aPreVoteIsNotAnElection() {
    BehaviorTestKit<RaftMessage> kit = replica(TestSettings.DEFAULTS.withPreVote(true));
    kit.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertEquals(List.of(), told);
    kit.run(new RaftMessage.RequestVoteResponse(1, "n2", true, true));
    assertEquals(List.of("election 1"), told);
  }

  // Section 5.3: a follower learns the leader of its term from its first AppendEntries, once; a later one of the
  // same leader is no change, one of a newer term's leader is.
  @Test
  void aFollowerLearnsItsLeaderFromAppendEntriesOncePerTerm() {
    BehaviorTestKit<RaftMessage> kit = replica(TestSettings.DEFAULTS);
    kit.run(new RaftMessage.AppendEntries(2, "n2", 0, 0, List.of(), 0));
    kit.run(new RaftMessage.AppendEntries(2, "n2", 0, 0, List.of(), 0));
    assertEquals(List.of("leader n2 in 2"), told);
    kit.run(new RaftMessage.AppendEntries(3, "n3", 0, 0, List.of(), 0));
    assertEquals(List.of("leader n2 in 2", "leader n3 in 3"), told);
  }

  // Figure 13: an InstallSnapshot comes from the leader of its term, which the follower then follows.
  @Test
  void aFollowerLearnsItsLeaderFromInstallSnapshot() {
    BehaviorTestKit<RaftMessage> kit = replica(TestSettings.DEFAULTS);
    kit.run(new RaftMessage.InstallSnapshot(4, "n3", 3, 1, THREE, 0, EntryListCodec.bytes(RaftFixtures.log(1, 1, 1)),
        true));
    assertEquals(List.of("leader n3 in 4"), told);
  }
}
