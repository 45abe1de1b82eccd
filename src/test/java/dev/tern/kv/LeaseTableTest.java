package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The bookkeeping under the leases ({@link LeaseTable}): misuse fails loudly, and a restore replaces everything. */
class LeaseTableTest {
  @Test
  void grantingTwiceOrEndingAnUnknownLeaseIsABug() {
    LeaseTable t = new LeaseTable();
    t.grant(5, 1000);
    assertThrows(IllegalStateException.class, () -> t.grant(5, 1000));
    assertThrows(IllegalStateException.class, () -> t.end(6));
  }

  @Test
  void reattachingAKeyToItsOwnLeaseKeepsItThereOnce() {
    LeaseTable t = new LeaseTable();
    t.grant(5, 1000);
    t.attach("k", 5);
    t.attach("k", 5);
    assertEquals(List.of("k"), t.get(5).keys());
    assertEquals(List.of("k"), t.end(5));
    assertEquals(KvCommand.NO_LEASE, t.leaseOf("k"));
  }

  @Test
  void aRestoreReplacesEveryLeaseAndAttachment() {
    LeaseTable t = new LeaseTable();
    t.grant(5, 1000);
    t.attach("old", 5);
    t.replaceAll(List.of(new Lease(9, 2000, 12, List.of("new"))));
    assertNull(t.get(5));
    assertEquals(KvCommand.NO_LEASE, t.leaseOf("old"));
    assertEquals(9, t.leaseOf("new"));
    assertEquals(List.of(new Lease(9, 2000, 12, List.of("new"))), t.all());
    assertEquals(1, t.size());
    assertEquals(true, t.renew(9, 20));
    assertEquals(20, t.get(9).renewedAt());
    assertEquals(false, t.renew(5, 20));
  }

  @Test
  void argumentsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> new LeaseDeadlines(0));
    new LeaseDeadlines(1);
    assertEquals(1, new KvCommand.LeaseGrant("g", 1).ttlMillis());
    assertThrows(IllegalArgumentException.class, () -> new KvCommand.LeaseGrant("g", 0));
  }
}
