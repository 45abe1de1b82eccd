package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Snapshots of the key-value state machine: what they carry, and that a restored replica behaves the same. */
class KvSnapshotTest {
  private final List<KvResult> results = new ArrayList<>();

  private static void apply(KvStateMachine sm, KvCommand c) {
    sm.apply(LogEntry.command(sm.lastApplied() + 1, 1, KvCodec.encode(c)));
  }

  private static byte[] bytes(KvStateMachine sm) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    sm.snapshot().writeTo(out);
    return out.toByteArray();
  }

  /** One state with every kind of result in its deduplication window, utf-8 beyond ASCII, and a delete. */
  private static KvStateMachine populated() {
    KvStateMachine sm = new KvStateMachine();
    apply(sm, new KvCommand.Put("p1", "a", "1"));
    apply(sm, new KvCommand.Put("p2", "clé/ü", "värde ✓"));
    apply(sm, new KvCommand.Delete("d1", "a"));
    apply(sm, new KvCommand.Delete("d2", "missing"));
    apply(sm, new KvCommand.CompareAndSet("c1", "b", 0, "new"));
    apply(sm, new KvCommand.CompareAndSet("c2", "b", 1, "conflict"));
    apply(sm, new KvCommand.Get("g1", "b"));
    sm.apply(LogEntry.command(sm.lastApplied() + 1, 1, new byte[] {1, 2, 3})); // undecodable: Invalid
    sm.apply(LogEntry.noop(sm.lastApplied() + 1, 2));
    return sm;
  }

  @Test
  void aRestoredReplicaHoldsTheSameDataRevisionsAndIndex() throws IOException {
    KvStateMachine source = populated();
    KvStateMachine restored = new KvStateMachine();
    restored.restore(source.lastApplied(), bytes(source));
    assertEquals(source.lastApplied(), restored.lastApplied());
    assertEquals(source.contents(), restored.contents());
    assertEquals(source.digest(), restored.digest());
    assertArrayEquals(bytes(source), bytes(restored), "the encoding must be deterministic");
  }

  // The deduplication window must survive: a command proposed twice, once before the snapshot and again after
  // it, is applied once on the restored replica exactly as on the others.
  @Test
  void theDeduplicationWindowSurvivesSoARepeatedCommandStillChangesNothing() throws IOException {
    KvStateMachine source = populated();
    KvStateMachine restored = new KvStateMachine();
    restored.restore(source.lastApplied(), bytes(source));
    for (String id : List.of("p1", "p2", "d1", "d2", "c1", "c2", "g1")) {
      assertEquals(source.resultOf(id), restored.resultOf(id), id);
    }
    KvCommand.Put again = new KvCommand.Put("p1", "a", "1"); // a late copy of the first put
    apply(source, again);
    apply(restored, again);
    assertEquals(Optional.empty(), restored.get("a"), "the repeated put was applied again after the restore");
    assertEquals(source.contents(), restored.contents());
  }

  @Test
  void theCaptureIsNotChangedByLaterApplies() throws IOException {
    KvStateMachine sm = populated();
    long index = sm.lastApplied();
    var capture = sm.snapshot();
    apply(sm, new KvCommand.Put("later", "b", "changed after the capture"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    capture.writeTo(out);
    KvStateMachine restored = new KvStateMachine();
    restored.restore(index, out.toByteArray());
    assertEquals("new", restored.get("b").orElseThrow().value().utf8());
    assertEquals(index, restored.lastApplied());
  }

  @Test
  void damagedOrMismatchedSnapshotsAreRefused() throws IOException {
    KvStateMachine sm = populated();
    byte[] good = bytes(sm);
    KvStateMachine target = new KvStateMachine();
    assertThrows(IllegalArgumentException.class, () -> target.restore(sm.lastApplied(), Arrays.copyOf(good, good.length - 3)));
    assertThrows(IllegalArgumentException.class, () -> target.restore(sm.lastApplied() + 1, good));
    byte[] badVersion = good.clone();
    badVersion[3] = 9;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> target.restore(sm.lastApplied(), badVersion));
    assertTrue(e.getMessage().contains("version"), e.getMessage());
    assertEquals(0, target.lastApplied(), "a refused snapshot must leave the state alone");
  }

  /** A write's outcome in the window has no value; it survives a snapshot as it is (format type 7). */
  @Test
  void aRememberedWriteWithoutItsValueSurvivesTheSnapshot() throws IOException {
    KvStateMachine sm = new KvStateMachine();
    apply(sm, new KvCommand.Put("w1", "key", "value"));
    apply(sm, new KvCommand.CompareAndSet("w2", "key", 1, "next"));
    KvStateMachine restored = new KvStateMachine();
    restored.restore(2, bytes(sm));
    assertEquals(Optional.of(new KvResult.Written("key", (dev.tern.kv.Bytes) null, 1)), restored.resultOf("w1"));
    assertEquals(Optional.of(new KvResult.Written("key", (dev.tern.kv.Bytes) null, 2)), restored.resultOf("w2"));
    assertEquals("next", restored.get("key").orElseThrow().value().utf8());
    assertArrayEquals(bytes(sm), bytes(restored), "the same bytes again");
  }
}
