package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The leader's view of one follower (Figure 2, "Volatile state on leaders"): nextIndex never falls to matchIndex. */
class ProgressTest {

  // Section 5.3: nextIndex is decremented on rejections, but entries up to matchIndex are known to be on the
  // follower, so probing never goes back to or below matchIndex.
  @Test
  void probingNeverGoesBackToWhatIsKnownToMatch() {
    Progress p = new Progress("n2", 10);
    p.acknowledged(5);
    assertEquals(5, p.matchIndex);
    p.probeFrom(3);
    assertTrue(p.probing);
    assertEquals(6, p.nextIndex);
    p.probeFrom(5);
    assertEquals(6, p.nextIndex);
    p.probeFrom(8);
    assertEquals(8, p.nextIndex);
  }

  // An answer to an outstanding request is progress even when matchIndex stays (a heartbeat's): the follower is
  // alive, so the loss countdown restarts; but matchIndex did not move, and the leader is told so.
  @Test
  void anAnswerThatMovesNothingStillCountsAsProgress() {
    Progress p = new Progress("n2", 6);
    assertTrue(p.acknowledged(5));
    p.sent(8);
    assertTrue(p.acknowledged(8));
    p.sent(8); // a heartbeat: nothing new
    p.ticksWithoutProgress = 3;
    assertFalse(p.acknowledged(8), "matchIndex did not move");
    assertEquals(0, p.ticksWithoutProgress);
    assertTrue(p.inflight.isEmpty());
    p.ticksWithoutProgress = 3;
    assertFalse(p.acknowledged(7), "an older answer moves nothing");
    assertEquals(3, p.ticksWithoutProgress, "and answers nothing outstanding");
  }

  // Section 5.3: once a probe finds where the logs agree the leader replicates at full pace: what the probe had in
  // flight no longer holds the pipeline.
  @Test
  void aProbeThatFindsAgreementReleasesThePipeline() {
    Progress p = new Progress("n2", 6);
    p.sent(10);
    assertEquals(6, p.nextIndex, "a probe does not move nextIndex");
    assertFalse(p.canSend(4), "one probe at a time");
    p.acknowledged(5);
    assertFalse(p.probing);
    assertTrue(p.inflight.isEmpty());
    assertTrue(p.canSend(1));
  }

  // Figure 13: a snapshot replaces whatever AppendEntries were in flight; none of them is waited for any more.
  @Test
  void startingASnapshotForgetsTheRequestsInFlight() {
    Progress p = new Progress("n2", 6);
    p.acknowledged(5);
    p.sent(7);
    p.sent(9);
    p.ticksWithoutProgress = 2;
    SnapshotMeta meta = new SnapshotMeta(20, 3, java.util.List.of("n1", "n2"));
    p.startSnapshot(meta);
    assertTrue(p.inflight.isEmpty());
    assertEquals(0, p.ticksWithoutProgress);
    assertEquals(meta, p.snapshot);
    p.acknowledged(7); // a late answer to a request sent before
    assertEquals(0, p.ticksWithoutProgress);
    p.snapshotInstalled(20);
    assertEquals(20, p.matchIndex);
    assertEquals(21, p.nextIndex);
    assertTrue(p.probing);
  }
}
