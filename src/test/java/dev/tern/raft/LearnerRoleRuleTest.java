package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.Configuration.Server;
import dev.tern.raft.RaftFixtures.Replica;
import dev.tern.raft.RaftMessage.AppendEntries;
import dev.tern.raft.RaftMessage.AppendEntriesResponse;
import dev.tern.raft.RaftMessage.HeartbeatTick;
import dev.tern.raft.RaftMessage.TimeoutNow;
import dev.tern.raft.RaftMessage.TransferLeadership;
import dev.tern.raft.RaftMessage.TransferLeadershipResponse;
import dev.tern.storage.InMemoryStorage;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.TestInbox;
import org.junit.jupiter.api.Test;

/**
 * Learners (dissertation 4.2.1) in leadership transfer (3.10) and CheckQuorum (6.2): a learner is replicated to but
 * never counts and never leads, so it is never a transfer's target, never campaigns when told to, and its answers
 * do not keep a leader in its lease.
 */
class LearnerRoleRuleTest {
  private static final Configuration THREE = Configuration.ofVoters(List.of("n1", "n2", "n3"));
  private static final Server N4 = new Server("n4", "127.0.0.1", 7104, 8104, false);
  private static final Server N5 = new Server("n5", "127.0.0.1", 7105, 8105, false);
  private static final Configuration WITH_LEARNERS = THREE.with(N4).with(N5);
  private static final RaftSettings SETTINGS = TestSettings.DEFAULTS.withCheckQuorum(true);
  private static final int WINDOW_TICKS = 12;

  private static Replica leader() {
    Replica r = new Replica("n1", WITH_LEARNERS, SETTINGS, new InMemoryStorage(), 1);
    r.electLeader();
    r.transport.drain();
    return r;
  }

  private static TransferLeadershipResponse transfer(Replica r, String target) {
    TestInbox<TransferLeadershipResponse> inbox = TestInbox.create();
    r.run(new TransferLeadership(target, inbox.getRef()));
    return inbox.hasMessages() ? inbox.receiveMessage() : null;
  }

  /** 3.10 with 4.2.1: a learner cannot take over; asked for by name, it is an unknown target. */
  @Test
  void aLearnerIsNoTransferTarget() {
    Replica r = leader();
    assertEquals(new TransferLeadershipResponse.UnknownTarget("n4"), transfer(r, "n4"));
    assertInstanceOf(Leader.class, r.behavior(), "nothing started");
  }

  /** 3.10 with 4.2.1: without a target the most up-to-date voter is chosen, even if a learner is further ahead. */
  @Test
  void theMostUpToDateVoterIsChosenNotAFurtherLearner() {
    Replica r = leader();
    r.run(AppendEntriesResponse.success(1, "n4", 1)); // the learner holds the whole log, n2 and n3 do not
    r.run(AppendEntriesResponse.success(1, "n5", 1));
    r.transport.drain();
    assertEquals(null, transfer(r, null), "started, not refused");
    String target = r.behavior().s.transfer.target;
    assertTrue(target.equals("n2") || target.equals("n3"), "a voter, not " + target);
    assertTrue(r.transport.drain().stream().noneMatch(s -> s.message() instanceof TimeoutNow && !s.to().equals(target)));
  }

  /** 4.2.1: a learner told TimeoutNow (by a leader that thought it a voter) does not campaign. */
  @Test
  void aLearnerToldTimeoutNowDoesNotCampaign() {
    Replica r = new Replica("n4", WITH_LEARNERS, SETTINGS, new InMemoryStorage(), 1);
    r.run(new AppendEntries(1, "n1", 0, 0, List.of(), 0));
    r.transport.drain();
    r.run(new TimeoutNow(1, "n1"));
    assertInstanceOf(Follower.class, r.behavior());
    assertEquals(1, r.status().term(), "no election, no new term");
    assertTrue(r.transport.drain().stream().noneMatch(s -> s.message() instanceof RaftMessage.RequestVote));
  }

  /** 6.2 with 4.2.1: two learners answering every heartbeat are no majority of three voters: the leader steps down. */
  @Test
  void learnersAnswersDoNotKeepALeaderInItsLease() {
    Replica r = leader();
    long term = r.status().term();
    for (int tick = 0; tick < WINDOW_TICKS && r.behavior() instanceof Leader; tick++) {
      r.run(AppendEntriesResponse.success(term, "n4", 0));
      r.run(AppendEntriesResponse.success(term, "n5", 0));
      r.run(HeartbeatTick.INSTANCE);
    }
    assertInstanceOf(Follower.class, r.behavior());
    assertTrue(r.status().quorumLost().contains("heard from 1 of 3 voters"), r.status().quorumLost());
  }
}
