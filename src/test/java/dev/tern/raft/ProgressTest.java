package dev.tern.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
