package dev.tern.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.Address;
import org.junit.jupiter.api.Test;

class IslandWatchTest {
  private static final Members FIVE = Members.parse(
      "n1=127.0.0.1:7101:8101,n2=127.0.0.1:7102:8102,n3=127.0.0.1:7103:8103,n4=127.0.0.1:7104:8104,n5=127.0.0.1:7105:8105");

  private static Address artery(int port) {
    return new Address("pekko", "tern", "127.0.0.1", port);
  }

  @Test
  void countsOnlyConfiguredMembers() {
    Set<String> ids = IslandWatch.memberIds(FIVE, List.of(artery(7102), artery(7103), artery(9999), new Address("pekko", "tern")));
    assertEquals(Set.of("n2", "n3"), ids);
  }

  // The survivors of a kill of n1, n4 and n5, left in the old Pekko cluster while the restarted three formed a
  // new one: two of five is no majority, so they must leave; the three of them are, so they stay.
  @Test
  void aMajorityIsMoreThanHalfOfTheConfiguredMembers() {
    assertFalse(IslandWatch.majority(FIVE, Set.of("n2", "n3")));
    assertTrue(IslandWatch.majority(FIVE, Set.of("n1", "n4", "n5")));
    Members three = Members.parse("n1=127.0.0.1:7101:8101,n2=127.0.0.1:7102:8102,n3=127.0.0.1:7103:8103");
    assertTrue(IslandWatch.majority(three, Set.of("n1", "n2")));
    assertFalse(IslandWatch.majority(three, Set.of("n3")));
  }
}
