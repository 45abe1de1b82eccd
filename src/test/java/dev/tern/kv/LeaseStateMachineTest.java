package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Leases in the state machine (docs/api.md, "Leases"): a grant's id is its index, keys attach and detach, revoking or
 * expiring deletes the lease's keys at one revision, an expiry loses to a renewal committed before it, a put or a
 * transaction naming no lease changes nothing, and leases survive a snapshot. Every replica applies the same entries,
 * so these are the same on every replica.
 */
class LeaseStateMachineTest {
  private final List<KvEvent> events = new ArrayList<>();
  private final KvStateMachine sm = new KvStateMachine((i, c, r) -> {}, recording());
  private int ids;

  private WatchHub recording() {
    WatchHub hub = new WatchHub(1000, 1 << 20);
    try {
      hub.watch("", false, 1, new WatchHub.Watcher() {
      @Override
      public boolean offer(List<KvEvent> batch) {
        events.addAll(batch);
        return true;
      }

      @Override
      public void lost(long resumeFrom, long oldestRevision) {}
    });
    } catch (WatchHub.CompactedException e) {
      throw new AssertionError(e);
    }
    return hub;
  }

  private KvResult apply(KvCommand command) {
    long index = sm.lastApplied() + 1;
    sm.apply(LogEntry.command(index, 1, KvCodec.encode(command)));
    return sm.resultOf(command.id()).orElseThrow();
  }

  private String id() {
    return "c" + ids++;
  }

  private long grant(long ttl) {
    KvResult r = apply(new KvCommand.LeaseGrant(id(), ttl));
    KvResult.LeaseGranted g = assertInstanceOf(KvResult.LeaseGranted.class, r);
    assertEquals(sm.lastApplied(), g.lease(), "a lease's id is its grant's index");
    assertEquals(g.lease(), g.revision());
    return g.lease();
  }

  @Test
  void keysAttachToALeaseAndRevokingItDeletesThemAtOneRevision() {
    long lease = grant(5000);
    apply(new KvCommand.Put(id(), "lock/a", Bytes.utf8("me"), lease));
    apply(new KvCommand.Put(id(), "lock/b", Bytes.utf8("me"), lease));
    apply(new KvCommand.Put(id(), "other", "x"));
    assertEquals(List.of("lock/a", "lock/b"), sm.lease(lease).orElseThrow().keys());
    assertEquals(lease, sm.leaseOf("lock/a"));
    events.clear();

    KvResult.LeaseRevoked r = assertInstanceOf(KvResult.LeaseRevoked.class, apply(new KvCommand.LeaseRevoke(id(), lease)));
    assertEquals(List.of("lock/a", "lock/b"), r.keys());
    assertEquals(sm.lastApplied(), r.revision());
    assertTrue(sm.get("lock/a").isEmpty());
    assertTrue(sm.get("lock/b").isEmpty());
    assertTrue(sm.get("other").isPresent(), "a key without the lease stays");
    assertTrue(sm.lease(lease).isEmpty());
    assertEquals(List.of(new KvEvent(r.revision(), "lock/a", null), new KvEvent(r.revision(), "lock/b", null)), events,
        "watchers see both deletes at the revocation's revision");
    assertInstanceOf(KvResult.LeaseNotFound.class, apply(new KvCommand.LeaseRevoke(id(), lease)), "revoked twice");
  }

  @Test
  void aPutWithoutTheLeaseOrADeleteDetachesTheKey() {
    long lease = grant(5000);
    apply(new KvCommand.Put(id(), "k1", Bytes.utf8("v"), lease));
    apply(new KvCommand.Put(id(), "k2", Bytes.utf8("v"), lease));
    apply(new KvCommand.Put(id(), "k1", "no lease now"));
    apply(new KvCommand.Delete(id(), "k2"));
    assertEquals(List.of(), sm.lease(lease).orElseThrow().keys());
    assertEquals(KvCommand.NO_LEASE, sm.leaseOf("k1"));
    KvResult.LeaseRevoked r = assertInstanceOf(KvResult.LeaseRevoked.class, apply(new KvCommand.LeaseRevoke(id(), lease)));
    assertEquals(List.of(), r.keys());
    assertEquals("no lease now", sm.get("k1").orElseThrow().value().utf8());
  }

  @Test
  void aKeyMovesFromOneLeaseToAnother() {
    long first = grant(5000);
    long second = grant(5000);
    apply(new KvCommand.Put(id(), "k", Bytes.utf8("v1"), first));
    apply(new KvCommand.Put(id(), "k", Bytes.utf8("v2"), second));
    assertEquals(List.of(), sm.lease(first).orElseThrow().keys());
    assertEquals(List.of("k"), sm.lease(second).orElseThrow().keys());
    apply(new KvCommand.LeaseRevoke(id(), first));
    assertTrue(sm.get("k").isPresent(), "ending the first lease leaves a key that moved on");
  }

  @Test
  void aPutOrATransactionNamingNoLeaseChangesNothing() {
    KvResult r = apply(new KvCommand.Put(id(), "k", Bytes.utf8("v"), 12345));
    assertEquals(new KvResult.LeaseNotFound(12345), r);
    assertTrue(sm.get("k").isEmpty());
    long lease = grant(5000);
    KvResult t = apply(new KvCommand.Txn(id(), List.of(), List.of(new TxnOp.Put("a", "1"),
        new TxnOp.Put("b", Bytes.utf8("2"), 999)), List.of()));
    assertEquals(new KvResult.LeaseNotFound(999), t);
    assertTrue(sm.get("a").isEmpty(), "no part of the transaction ran");
    KvResult ok = apply(new KvCommand.Txn(id(), List.of(TxnCompare.exists("lock", TxnCompare.Relation.EQUAL, false)),
        List.of(new TxnOp.Put("lock", Bytes.utf8("me"), lease)), List.of()));
    assertTrue(assertInstanceOf(KvResult.TxnDone.class, ok).succeeded());
    assertEquals(lease, sm.leaseOf("lock"));
  }

  @Test
  void anExpiryLosesToARenewalCommittedBeforeIt() {
    long lease = grant(1000);
    apply(new KvCommand.Put(id(), "k", Bytes.utf8("v"), lease));
    long renewedAt = sm.lease(lease).orElseThrow().renewedAt();
    assertEquals(lease, renewedAt, "a grant is the first renewal");
    KvResult alive = apply(new KvCommand.LeaseKeepAlive(id(), lease));
    assertEquals(new KvResult.LeaseAlive(lease, 1000), alive);
    assertEquals(sm.lastApplied(), sm.lease(lease).orElseThrow().renewedAt());

    KvResult stale = apply(new KvCommand.LeaseExpire(id(), lease, renewedAt));
    assertEquals(new KvResult.LeaseAlive(lease, 1000), stale);
    assertTrue(sm.get("k").isPresent());

    long now = sm.lease(lease).orElseThrow().renewedAt();
    KvResult.LeaseRevoked gone = assertInstanceOf(KvResult.LeaseRevoked.class, apply(new KvCommand.LeaseExpire(id(), lease, now)));
    assertEquals(List.of("k"), gone.keys());
    assertTrue(sm.get("k").isEmpty());
    assertEquals(new KvResult.LeaseNotFound(lease), apply(new KvCommand.LeaseKeepAlive(id(), lease)));
    assertEquals(new KvResult.LeaseNotFound(lease), apply(new KvCommand.LeaseExpire(id(), lease, now)));
  }

  @Test
  void leasesSurviveASnapshotAndCountInTheDigest() throws Exception {
    String before = sm.digest();
    long lease = grant(7000);
    assertNotEquals(before, sm.digest(), "a lease changes the digest");
    apply(new KvCommand.Put(id(), "a", Bytes.utf8("1"), lease));
    apply(new KvCommand.Put(id(), "b", "2"));
    apply(new KvCommand.LeaseKeepAlive(id(), lease));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    sm.snapshot().writeTo(out);
    byte[] bytes = out.toByteArray();
    assertEquals(KvSnapshotCodec.VERSION, java.nio.ByteBuffer.wrap(bytes).getInt(), "written as version 3");

    KvStateMachine restored = new KvStateMachine();
    restored.restore(sm.lastApplied(), bytes);
    assertEquals(sm.digest(), restored.digest());
    assertEquals(sm.leases(), restored.leases());
    assertEquals(lease, restored.leaseOf("a"));
    // The restored replica goes on like the first: revoking deletes the attached key only.
    restored.apply(LogEntry.command(restored.lastApplied() + 1, 1, KvCodec.encode(new KvCommand.LeaseRevoke("r", lease))));
    assertTrue(restored.get("a").isEmpty());
    assertTrue(restored.get("b").isPresent());
  }

  @Test
  void aSnapshotWithoutLeasesKeepsItsEarlierVersion() throws Exception {
    apply(new KvCommand.Put(id(), "k", "v"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    sm.snapshot().writeTo(out);
    assertEquals(1, java.nio.ByteBuffer.wrap(out.toByteArray()).getInt());
  }

  @Test
  void leaseCommandsRoundTripThroughTheCodec() {
    List<KvCommand> commands = List.of(new KvCommand.LeaseGrant("g", 10_000), new KvCommand.LeaseKeepAlive("k", 7),
        new KvCommand.LeaseRevoke("r", 8), new KvCommand.LeaseExpire("e", 9, 42),
        new KvCommand.Put("p", "key", Bytes.utf8("value"), 11),
        new KvCommand.Txn("t", List.of(), List.of(new TxnOp.Put("a", Bytes.utf8("1"), 12), new TxnOp.Put("b", "2")), List.of()));
    for (KvCommand c : commands) assertEquals(c, KvCodec.decode(KvCodec.encode(c)), c.toString());
    assertEquals(KvCodec.encode(new KvCommand.Put("p", "k", "v")).length + 8,
        KvCodec.encode(new KvCommand.Put("p", "k", Bytes.utf8("v"), 3)).length, "a lease costs 8 bytes; none costs none");
    assertThrows(IllegalArgumentException.class, () -> new KvCommand.LeaseGrant("g", 0));
    assertThrows(IllegalArgumentException.class, () -> new KvCommand.Put("p", "k", Bytes.utf8("v"), -1));
    assertFalse(sm.lease(1).isPresent());
  }
}
