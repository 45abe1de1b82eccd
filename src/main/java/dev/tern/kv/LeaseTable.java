package dev.tern.kv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The leases of a {@link KvStore} and which key is attached to which: a key belongs to at most one lease, and ending
 * the lease deletes the key. Sorted maps keep iteration, and so snapshots and digests, identical on every replica.
 * Not thread-safe: {@link KvStateMachine} guards it with the store.
 */
final class LeaseTable {
  private static final class Entry {
    final long ttlMillis;
    long renewedAt;
    final TreeSet<String> keys = new TreeSet<>();

    Entry(long ttlMillis, long renewedAt) {
      this.ttlMillis = ttlMillis;
      this.renewedAt = renewedAt;
    }
  }

  private final TreeMap<Long, Entry> leases = new TreeMap<>();
  private final Map<String, Long> leaseOfKey = new HashMap<>();

  boolean exists(long lease) {
    return leases.containsKey(lease);
  }

  void grant(long lease, long ttlMillis) {
    if (leases.containsKey(lease)) throw new IllegalStateException("lease " + lease + " exists already");
    leases.put(lease, new Entry(ttlMillis, lease));
  }

  /** @return whether the lease exists (and is now renewed at {@code index}) */
  boolean renew(long lease, long index) {
    Entry e = leases.get(lease);
    if (e == null) return false;
    e.renewedAt = index;
    return true;
  }

  /** Ends the lease, detaching its keys, and returns them in key order (the caller deletes them). */
  List<String> end(long lease) {
    Entry e = leases.remove(lease);
    if (e == null) throw new IllegalStateException("no lease " + lease);
    for (String key : e.keys) leaseOfKey.remove(key);
    return new ArrayList<>(e.keys);
  }

  /** {@code key} now belongs to {@code lease} ({@link KvCommand#NO_LEASE}: to none). The lease must exist. */
  void attach(String key, long lease) {
    detach(key);
    if (lease == KvCommand.NO_LEASE) return;
    leases.get(lease).keys.add(key);
    leaseOfKey.put(key, lease);
  }

  void detach(String key) {
    if (leaseOfKey.isEmpty()) return; // every put and delete comes here: without leases, no hashing at all
    Long old = leaseOfKey.remove(key);
    if (old != null) leases.get(old).keys.remove(key);
  }

  /** The lease {@code key} belongs to, or {@link KvCommand#NO_LEASE}. */
  /** The lease's TTL in milliseconds; the lease must exist. */
  long ttl(long lease) {
    return leases.get(lease).ttlMillis;
  }

  long leaseOf(String key) {
    Long l = leaseOfKey.get(key);
    return l == null ? KvCommand.NO_LEASE : l;
  }

  int size() {
    return leases.size();
  }

  Lease get(long lease) {
    Entry e = leases.get(lease);
    return e == null ? null : new Lease(lease, e.ttlMillis, e.renewedAt, new ArrayList<>(e.keys));
  }

  /** Every lease, by id. */
  List<Lease> all() {
    List<Lease> out = new ArrayList<>(leases.size());
    for (Map.Entry<Long, Entry> e : leases.entrySet()) {
      out.add(new Lease(e.getKey(), e.getValue().ttlMillis, e.getValue().renewedAt, new ArrayList<>(e.getValue().keys)));
    }
    return out;
  }

  void replaceAll(List<Lease> all) {
    leases.clear();
    leaseOfKey.clear();
    for (Lease l : all) {
      Entry e = new Entry(l.ttlMillis(), l.renewedAt());
      leases.put(l.id(), e);
      for (String key : l.keys()) {
        e.keys.add(key);
        leaseOfKey.put(key, l.id());
      }
    }
  }
}
