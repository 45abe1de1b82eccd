package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Rules of the key-value state machine that mutation testing (PIT, docs/testing.md) showed no test checked:
 * snapshot decoding limits, the deduplication window's bound, what a restore replaces, and what the digest
 * covers.
 */
class KvMutationGapTest {

  private static void apply(KvStateMachine sm, KvCommand c) {
    sm.apply(LogEntry.command(sm.lastApplied() + 1, 1, KvCodec.encode(c)));
  }

  private static byte[] snapshotBytes(KvStateMachine sm) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    sm.snapshot().writeTo(out);
    return out.toByteArray();
  }

  // A CBOR null is well-formed but is no command: every replica must reject it the same way.
  @Test
  void anEncodedNullIsNotACommand() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCodec.decode(new byte[] {(byte) 0xF6}));
    assertTrue(e.getMessage().contains("null"), e.getMessage());
  }

  @Test
  void aSnapshotWithTrailingBytesIsRefused() throws IOException {
    KvStateMachine sm = new KvStateMachine();
    apply(sm, new KvCommand.Put("p", "k", "v"));
    byte[] good = snapshotBytes(sm);
    byte[] longer = Arrays.copyOf(good, good.length + 1);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new KvStateMachine().restore(1, longer));
    assertTrue(e.getMessage().contains("trailing"), e.getMessage());
  }

  @Test
  void aNegativeLengthInASnapshotIsRefused() throws IOException {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(raw);
    out.writeInt(1); // version
    out.writeLong(1); // lastApplied
    out.writeInt(1); // one key
    out.writeInt(-1); // whose length is negative
    out.flush();
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new KvStateMachine().restore(1, raw.toByteArray()));
    assertTrue(e.getMessage().contains("negative length"), e.getMessage());
  }

  // Empty strings (an empty value, an empty key) have length 0, which is valid.
  @Test
  void emptyValuesSurviveASnapshot() throws IOException {
    KvStateMachine sm = new KvStateMachine();
    apply(sm, new KvCommand.Put("p", "", ""));
    KvStateMachine restored = new KvStateMachine();
    restored.restore(1, snapshotBytes(sm));
    assertEquals(Optional.of(new VersionedValue("", 1)), restored.get(""));
  }

  // A NotFound result (a delete of an absent key) in the window is carried by the snapshot, so a restored
  // replica answers a repeat of that command as the others do.
  @Test
  void aNotFoundResultSurvivesASnapshot() throws IOException {
    KvStateMachine sm = new KvStateMachine();
    apply(sm, new KvCommand.Delete("d", "absent"));
    assertEquals(Optional.of(new KvResult.NotFound("absent")), sm.resultOf("d"));
    KvStateMachine restored = new KvStateMachine();
    restored.restore(1, snapshotBytes(sm));
    assertEquals(Optional.of(new KvResult.NotFound("absent")), restored.resultOf("d"));
  }

  @Test
  void resultOfTellsTheResultACommandGot() {
    KvStateMachine sm = new KvStateMachine();
    apply(sm, new KvCommand.Put("p1", "k", "v"));
    assertEquals(Optional.of(new KvResult.Written("k", (dev.tern.kv.Bytes) null, 1)), sm.resultOf("p1")); // the window keeps no value
    assertEquals(Optional.empty(), sm.resultOf("never"));
  }

  // A restore replaces the whole state: data and remembered command ids that the snapshot does not hold go.
  @Test
  void restoreReplacesDataAndTheDeduplicationWindow() throws IOException {
    KvStateMachine source = new KvStateMachine();
    apply(source, new KvCommand.Put("s1", "kept", "1"));
    apply(source, new KvCommand.Put("s2", "kept2", "2"));
    KvStateMachine target = new KvStateMachine();
    apply(target, new KvCommand.Put("t1", "gone", "x"));
    target.restore(2, snapshotBytes(source));
    assertEquals(Optional.empty(), target.get("gone"));
    assertEquals(Optional.empty(), target.resultOf("t1"));
    assertEquals(source.contents(), target.contents());
    assertEquals(Optional.of(new KvResult.Written("kept", (dev.tern.kv.Bytes) null, 1)), target.resultOf("s1"));
  }

  // The window is bounded: exactly DEDUPLICATION_WINDOW ids are remembered, and the oldest is forgotten first.
  @Test
  void theDeduplicationWindowKeepsExactlyItsSize() {
    KvStateMachine sm = new KvStateMachine();
    int n = KvStateMachine.DEDUPLICATION_WINDOW;
    for (int i = 0; i < n; i++) apply(sm, new KvCommand.Get("g" + i, "k"));
    assertTrue(sm.resultOf("g0").isPresent(), "the window holds " + n + " ids");
    apply(sm, new KvCommand.Get("g" + n, "k"));
    assertEquals(Optional.empty(), sm.resultOf("g0"), "the oldest id is forgotten once the window is full");
    assertTrue(sm.resultOf("g1").isPresent());
  }

  // The digest covers keys, values and the bytes of each (not only their lengths).
  @Test
  void theDigestCoversKeysAndValues() {
    MemoryKvStore a = new MemoryKvStore();
    a.put("ka", Bytes.utf8("v"), 1);
    MemoryKvStore otherKey = new MemoryKvStore();
    otherKey.put("kb", Bytes.utf8("v"), 1);
    MemoryKvStore otherValue = new MemoryKvStore();
    otherValue.put("ka", Bytes.utf8("w"), 1);
    assertNotEquals(a.digest(), otherKey.digest(), "a different key of the same length");
    assertNotEquals(a.digest(), otherValue.digest(), "a different value of the same length");
  }

  @Test
  void replaceAllDropsKeysNotInTheNewContent() {
    MemoryKvStore store = new MemoryKvStore();
    store.put("old", Bytes.utf8("x"), 1);
    MemoryKvStore source = new MemoryKvStore();
    source.put("new", Bytes.utf8("y"), 2);
    store.replaceAll(source.snapshot());
    assertEquals(source.snapshot(), store.snapshot());
  }

  // The codec carries every result type, Invalid included (the state machine does not keep Invalid results in
  // its window today, but the format must not depend on that).
  @Test
  void theSnapshotFormatCarriesAnInvalidResult() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    KvSnapshotCodec.write(out, 3, new java.util.TreeMap<>(), java.util.Map.of("x", new KvResult.Invalid("bad bytes")));
    KvSnapshotCodec.State state = KvSnapshotCodec.read(out.toByteArray());
    assertEquals(3, state.lastApplied());
    assertEquals(java.util.Map.of("x", new KvResult.Invalid("bad bytes")), state.recent());
  }
}
