package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leader's lease clock ({@link LeaseDeadlines}): a lease runs out its whole TTL after the leader first saw it or
 * saw it renewed, a new leader gives every lease its whole TTL again (etcd's rule: no lease expires early because of
 * an election), and an expiry is proposed once, then again only if it was not applied in time.
 */
class LeaseDeadlinesTest {
  private static final long MS = 1_000_000L;
  private final LeaseDeadlines deadlines = new LeaseDeadlines(1000 * MS);

  private static Lease lease(long id, long ttlMillis, long renewedAt) {
    return new Lease(id, ttlMillis, renewedAt, List.of());
  }

  @Test
  void aLeaseRunsOutItsWholeTtlAfterTheLeaderFirstSawIt() {
    List<Lease> leases = List.of(lease(5, 3000, 5));
    assertEquals(List.of(), deadlines.look(leases, 0));
    assertEquals(List.of(), deadlines.look(leases, 2999 * MS));
    assertEquals(List.of(new LeaseDeadlines.Expired(5, 5)), deadlines.look(leases, 3000 * MS));
  }

  @Test
  void aRenewalGivesTheWholeTtlFromWhenTheLeaderSawIt() {
    deadlines.look(List.of(lease(5, 3000, 5)), 0);
    List<Lease> renewed = List.of(lease(5, 3000, 9));
    assertEquals(List.of(), deadlines.look(renewed, 2500 * MS));
    assertEquals(List.of(), deadlines.look(renewed, 5499 * MS), "3 s from the look that saw the renewal, not from the grant");
    assertEquals(List.of(new LeaseDeadlines.Expired(5, 9)), deadlines.look(renewed, 5500 * MS));
  }

  @Test
  void aNewLeaderGivesEveryLeaseItsWholeTtlAgain() {
    List<Lease> leases = List.of(lease(5, 3000, 5));
    deadlines.look(leases, 0);
    deadlines.reset(); // this node lost leadership and won it back, or a new leader took over
    assertEquals(List.of(), deadlines.look(leases, 2000 * MS));
    assertEquals(List.of(), deadlines.look(leases, 4999 * MS), "counted from the new leader's first look");
    assertEquals(List.of(new LeaseDeadlines.Expired(5, 5)), deadlines.look(leases, 5000 * MS));
  }

  @Test
  void anExpiryIsProposedAgainOnlyIfItWasNotAppliedInTime() {
    List<Lease> leases = List.of(lease(5, 1000, 5), lease(6, 1000, 6));
    deadlines.look(leases, 0);
    assertEquals(2, deadlines.look(leases, 1000 * MS).size());
    assertEquals(List.of(), deadlines.look(leases, 1500 * MS), "proposed half a second ago");
    assertEquals(List.of(new LeaseDeadlines.Expired(6, 6)), deadlines.look(List.of(lease(6, 1000, 6)), 2000 * MS),
        "lease 5 ended; 6 is still there a second later");
    assertEquals(1, deadlines.tracked(), "an ended lease is forgotten");
  }

  @Test
  void ttlsAreReadAsTheApiDocumentsThem() {
    assertEquals(java.time.Duration.ofMillis(500), Lease.parseTtl("500ms"));
    assertEquals(java.time.Duration.ofSeconds(10), Lease.parseTtl("10s"));
    assertEquals(java.time.Duration.ofSeconds(7), Lease.parseTtl(" 7 "), "a bare number is seconds");
    assertEquals(java.time.Duration.ofMinutes(5), Lease.parseTtl("5m"));
    assertEquals(java.time.Duration.ofHours(1), Lease.parseTtl("1h"));
    for (String bad : List.of("", "soon", "-1s", "10d", "1.5s", "1234567890123s")) {
      assertEquals(null, Lease.parseTtl(bad), bad);
    }
  }
}
