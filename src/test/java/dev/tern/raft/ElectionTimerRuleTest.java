package dev.tern.raft;

import static dev.tern.raft.RaftFixtures.TWO_PEERS;
import static dev.tern.raft.RaftFixtures.electionTimers;
import static dev.tern.raft.RaftFixtures.replica;
import static dev.tern.raft.RaftFixtures.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.RequestVote;
import dev.tern.raft.RaftMessage.RequestVoteResponse;
import dev.tern.storage.InMemoryStorage;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.Effect;
import org.junit.jupiter.api.Test;

/**
 * The follower's election timer, section 5.2 and Figure 2 "Followers": randomized in [min, max]; restarted
 * only by AppendEntries from the current leader or by granting a vote.
 */
class ElectionTimerRuleTest {

  /** A follower of term 2 with log [1@1, 2@2], its start-up effects already consumed. */
  private static Replica follower(String votedFor) {
    Replica r = replica(storage(2, votedFor, 1, 2));
    r.effects();
    return r;
  }

  private static int electionResets(Replica r, RaftMessage m) {
    r.effects();
    r.run(m);
    return electionTimers(r.effects()).size();
  }

  // Section 5.2: "election timeouts are chosen randomly from a fixed interval (e.g., 150-300ms)" - here
  // [election-timeout-min, election-timeout-max] = [300ms, 600ms]; a single-shot timer firing ElectionTimeout.
  @Test
  void startupSchedulesARandomizedTimeoutWithinMinAndMax() {
    Duration min = TestSettings.DEFAULTS.electionTimeoutMin();
    Duration max = TestSettings.DEFAULTS.electionTimeoutMax();
    Set<Duration> seen = new HashSet<>();
    for (long seed = 0; seed < 50; seed++) {
      Replica r = new Replica("n1", TWO_PEERS, TestSettings.DEFAULTS, new InMemoryStorage(),
          new RecordingStateMachine(), seed);
      List<Effect.TimerScheduled<?>> timers = electionTimers(r.effects());
      assertEquals(1, timers.size());
      Effect.TimerScheduled<?> t = timers.get(0);
      assertEquals(RaftMessage.ElectionTimeout.INSTANCE, t.msg());
      assertEquals("SingleMode", t.mode().toString(), "an election timer fires once per arming");
      assertTrue(t.duration().compareTo(min) >= 0 && t.duration().compareTo(max) <= 0, "delay " + t.duration());
      seen.add(t.duration());
    }
    assertTrue(seen.size() > 10, "timeouts are not randomized: " + seen);
  }

  // Section 5.2, degenerate interval: min = max gives exactly that timeout.
  @Test
  void equalMinAndMaxGiveExactlyThatTimeout() {
    RaftSettings fixed =
        new RaftSettings(Duration.ofMillis(300), Duration.ofMillis(300), Duration.ofMillis(50), 512, 1 << 20, 8);
    Replica r = replica(new InMemoryStorage(), fixed);
    assertEquals(Duration.ofMillis(300), electionTimers(r.effects()).get(0).duration());
  }

  // Figure 2 Followers: an AppendEntries from the current leader restarts the timer.
  @Test
  void validAppendEntriesResetsTheTimer() {
    Replica r = follower(null);
    assertEquals(1, electionResets(r, new AppendEntries(2, "n2", 2, 2, List.of(), 0)));
    assertEquals(1, electionResets(r, new AppendEntries(2, "n2", 2, 2, RaftFixtures.entries(3, 2), 0)));
  }

  // Figure 2 Followers: it is the leader being heard that matters - even an AppendEntries that fails the log
  // consistency check comes from the current leader and restarts the timer.
  @Test
  void appendEntriesFromTheLeaderResetsTheTimerEvenWhenTheLogCheckFails() {
    Replica r = follower(null);
    assertEquals(1, electionResets(r, new AppendEntries(2, "n2", 9, 2, List.of(), 0)));
  }

  // Figure 2 Followers: granting a vote restarts the timer.
  @Test
  void grantingAVoteResetsTheTimer() {
    Replica r = follower(null);
    assertEquals(1, electionResets(r, new RequestVote(2, "n2", 2, 2)));
  }

  // Figure 2 Followers: a refused vote does not restart the timer (otherwise a server with a stale log could
  // hold off elections indefinitely) - refused because we voted for someone else ...
  @Test
  void voteRefusedBecauseAlreadyVotedDoesNotResetTheTimer() {
    Replica r = follower("n3");
    assertEquals(0, electionResets(r, new RequestVote(2, "n2", 2, 2)));
  }

  // ... because the candidate's term is stale ...
  @Test
  void staleTermVoteRequestDoesNotResetTheTimer() {
    Replica r = follower(null);
    assertEquals(0, electionResets(r, new RequestVote(1, "n2", 9, 9)));
  }

  // ... or because the candidate's log is behind ours (section 5.4.1), even when its term is newer.
  @Test
  void voteRefusedForAStaleLogDoesNotResetTheTimerEvenWithANewerTerm() {
    Replica r = follower(null);
    assertEquals(0, electionResets(r, new RequestVote(5, "n2", 1, 1)));
    assertEquals(5, r.status().term());
  }

  // Figure 2 Followers / AppendEntries receiver 1: an AppendEntries of an older term is not from the current
  // leader and does not restart the timer.
  @Test
  void staleTermAppendEntriesDoesNotResetTheTimer() {
    Replica r = follower(null);
    assertEquals(0, electionResets(r, new AppendEntries(1, "n2", 2, 2, List.of(), 0)));
  }

  // Late replies mean nothing to a follower and do not restart the timer either.
  @Test
  void lateResponsesDoNotResetTheTimer() {
    Replica r = follower(null);
    assertEquals(0, electionResets(r, new RequestVoteResponse(2, "n2", true)));
    assertEquals(0, electionResets(r, RaftMessage.AppendEntriesResponse.success(2, "n2", 2)));
  }

  // Figure 2 Followers: when the timer fires, the follower becomes a candidate.
  @Test
  void timeoutMakesTheFollowerACandidate() {
    Replica r = follower(null);
    r.run(RaftMessage.ElectionTimeout.INSTANCE);
    assertTrue(r.behavior() instanceof Candidate);
    assertFalse(r.transport.drain().isEmpty());
  }
}
