package dev.tern.kv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The leader's clock for leases: when each lease runs out. Only the leader measures time (replicas agree on the
 * leases, not on clocks), and it measures from what it saw itself: a lease it sees for the first time, or renewed
 * since it last looked (a keepalive applied), gets its whole TTL from that moment. A new leader therefore gives every
 * lease its whole TTL again, as etcd does, so that no lease expires early because of an election; a lease lives at
 * least its TTL after its last renewal, and at most that plus an election and one look. Pure: times are given.
 */
public final class LeaseDeadlines {
  /** A lease the leader sees run out: revoke it unless it was renewed after {@code renewedAt}. */
  public record Expired(long lease, long renewedAt) {}

  private record Tracked(long renewedAt, long deadlineNanos, long proposedAtNanos) {}

  private static final long NOT_PROPOSED = Long.MIN_VALUE;

  private final long reproposeAfterNanos;
  private final Map<Long, Tracked> tracked = new HashMap<>();

  /** @param reproposeAfterNanos how long an expiry proposed but not yet applied waits before it is proposed again */
  public LeaseDeadlines(long reproposeAfterNanos) {
    if (reproposeAfterNanos < 1) throw new IllegalArgumentException("reproposeAfterNanos must be >= 1");
    this.reproposeAfterNanos = reproposeAfterNanos;
  }

  /** This node just became leader: it knows of no deadline, so every lease gets its whole TTL from its next look. */
  public void reset() {
    tracked.clear();
  }

  /**
   * Looks at the leases as the state machine holds them now, at {@code nowNanos}: the ones to expire (each once, then
   * again only after {@code reproposeAfterNanos} if it is still there).
   */
  public List<Expired> look(List<Lease> leases, long nowNanos) {
    List<Expired> out = new ArrayList<>();
    Set<Long> present = new HashSet<>();
    for (Lease lease : leases) {
      present.add(lease.id());
      Tracked t = tracked.get(lease.id());
      if (t == null || t.renewedAt() != lease.renewedAt()) {
        tracked.put(lease.id(), new Tracked(lease.renewedAt(), nowNanos + lease.ttlMillis() * 1_000_000L, NOT_PROPOSED));
        continue;
      }
      if (nowNanos - t.deadlineNanos() < 0) continue;
      if (t.proposedAtNanos() != NOT_PROPOSED && nowNanos - t.proposedAtNanos() < reproposeAfterNanos) continue;
      tracked.put(lease.id(), new Tracked(t.renewedAt(), t.deadlineNanos(), nowNanos));
      out.add(new Expired(lease.id(), lease.renewedAt()));
    }
    tracked.keySet().retainAll(present);
    return out;
  }

  /** How many leases have a deadline (tests). */
  int tracked() {
    return tracked.size();
  }
}
