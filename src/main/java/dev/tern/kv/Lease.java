package dev.tern.kv;

import java.util.List;

/**
 * A lease as the state machine holds it: {@code id} (the index of its grant), its time to live, the index of its
 * last renewal (the grant or the last keepalive) and the keys attached to it, in key order. Time is not here: only
 * the leader measures it ({@link LeaseDeadlines}), so every replica holds the same leases.
 */
public record Lease(long id, long ttlMillis, long renewedAt, List<String> keys) {
  public Lease {
    keys = List.copyOf(keys);
  }
}
