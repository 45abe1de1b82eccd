package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KvStateMachineTest {

  private record Applied(long index, KvCommand command, KvResult result) {}

  private final List<Applied> applied = new ArrayList<>();
  private final KvStateMachine sm = new KvStateMachine((i, c, r) -> applied.add(new Applied(i, c, r)));

  /** Appends the command as the next entry and returns what the listener was told. */
  private KvResult apply(KvCommand command) {
    sm.apply(LogEntry.command(sm.lastApplied() + 1, 1, KvCodec.encode(command)));
    Applied last = applied.get(applied.size() - 1);
    assertEquals(sm.lastApplied(), last.index());
    assertEquals(command, last.command());
    return last.result();
  }

  private void noop() {
    sm.apply(LogEntry.noop(sm.lastApplied() + 1, 1));
  }

  @Test
  void putSetsRevisionToTheEntryIndex() {
    noop();
    noop();
    assertEquals(new KvResult.Written("k", "v1", 3), apply(new KvCommand.Put("c1", "k", "v1")));
    assertEquals(Optional.of(new VersionedValue("v1", 3)), sm.get("k"));

    apply(new KvCommand.Put("c2", "other", "x"));
    assertEquals(new KvResult.Written("k", "v2", 5), apply(new KvCommand.Put("c3", "k", "v2")));
    assertEquals(Optional.of(new VersionedValue("v2", 5)), sm.get("k"));
    assertEquals(new KvResult.Value("k", "v2", 5), apply(new KvCommand.Get("c4", "k")));
  }

  @Test
  void deleteRemovesTheKey() {
    apply(new KvCommand.Put("c1", "k", "v"));
    assertEquals(new KvResult.Deleted("k", 2), apply(new KvCommand.Delete("c2", "k")));
    assertEquals(Optional.empty(), sm.get("k"));
    assertEquals(0, sm.size());
    assertEquals(new KvResult.NotFound("k"), apply(new KvCommand.Get("c3", "k")));
    assertEquals(new KvResult.NotFound("k"), apply(new KvCommand.Delete("c4", "k")));
  }

  @Test
  void casWritesOnlyWhenTheRevisionMatches() {
    apply(new KvCommand.Put("c1", "k", "v1"));
    assertEquals(new KvResult.Written("k", "v2", 2), apply(new KvCommand.CompareAndSet("c2", "k", 1, "v2")));
    assertEquals(Optional.of(new VersionedValue("v2", 2)), sm.get("k"));

    // A stale revision loses and learns the current one.
    assertEquals(new KvResult.CasConflict("k", 2), apply(new KvCommand.CompareAndSet("c3", "k", 1, "v3")));
    assertEquals(Optional.of(new VersionedValue("v2", 2)), sm.get("k"));
  }

  @Test
  void casWithZeroMeansMustBeAbsent() {
    assertEquals(new KvResult.Written("k", "first", 1), apply(new KvCommand.CompareAndSet("c1", "k", 0, "first")));
    assertEquals(new KvResult.CasConflict("k", 1), apply(new KvCommand.CompareAndSet("c2", "k", 0, "second")));
    assertEquals(Optional.of(new VersionedValue("first", 1)), sm.get("k"));
  }

  @Test
  void casOnAnAbsentKeyWithANonZeroRevisionConflictsWithZero() {
    assertEquals(new KvResult.CasConflict("k", 0), apply(new KvCommand.CompareAndSet("c1", "k", 5, "v")));
    assertEquals(Optional.empty(), sm.get("k"));
    // After a delete the key is absent again, so 0 matches once more.
    apply(new KvCommand.Put("c2", "k", "v"));
    apply(new KvCommand.Delete("c3", "k"));
    assertEquals(new KvResult.Written("k", "again", 4), apply(new KvCommand.CompareAndSet("c4", "k", 0, "again")));
  }

  @Test
  void getThroughTheLogDoesNotChangeState() {
    apply(new KvCommand.Put("c1", "k", "v"));
    String before = sm.digest();
    assertEquals(new KvResult.Value("k", "v", 1), apply(new KvCommand.Get("c2", "k")));
    assertEquals(new KvResult.NotFound("nope"), apply(new KvCommand.Get("c3", "nope")));
    assertEquals(before, sm.digest());
    assertEquals(1, sm.size());
    assertEquals(3, sm.lastApplied());
  }

  @Test
  void noopEntriesOnlyAdvanceLastApplied() {
    apply(new KvCommand.Put("c1", "k", "v"));
    String before = sm.digest();
    noop();
    noop();
    assertEquals(3, sm.lastApplied());
    assertEquals(before, sm.digest());
    assertEquals(1, applied.size(), "the listener hears about commands only");
  }

  @Test
  void outOfOrderApplyIsRejectedWithoutSideEffects() {
    apply(new KvCommand.Put("c1", "k", "v"));
    byte[] put = KvCodec.encode(new KvCommand.Put("c2", "k", "changed"));

    assertThrows(IllegalStateException.class, () -> sm.apply(LogEntry.command(3, 1, put)));
    assertThrows(IllegalStateException.class, () -> sm.apply(LogEntry.command(1, 1, put)));
    assertThrows(IllegalStateException.class, () -> sm.apply(LogEntry.noop(5, 1)));

    assertEquals(1, sm.lastApplied());
    assertEquals(Optional.of(new VersionedValue("v", 1)), sm.get("k"));
    assertEquals(1, applied.size());
  }

  @Test
  void listenerHearsEachCommandOnceWithItsResult() {
    KvCommand put = new KvCommand.Put("p", "k", "v");
    KvCommand cas = new KvCommand.CompareAndSet("c", "k", 9, "w");
    KvCommand get = new KvCommand.Get("g", "k");
    KvCommand del = new KvCommand.Delete("d", "k");
    sm.apply(LogEntry.noop(1, 1));
    sm.apply(LogEntry.command(2, 1, KvCodec.encode(put)));
    sm.apply(LogEntry.command(3, 1, KvCodec.encode(cas)));
    sm.apply(LogEntry.noop(4, 2));
    sm.apply(LogEntry.command(5, 2, KvCodec.encode(get)));
    sm.apply(LogEntry.command(6, 2, KvCodec.encode(del)));

    assertEquals(
        List.of(
            new Applied(2, put, new KvResult.Written("k", "v", 2)),
            new Applied(3, cas, new KvResult.CasConflict("k", 2)),
            new Applied(5, get, new KvResult.Value("k", "v", 2)),
            new Applied(6, del, new KvResult.Deleted("k", 6))),
        applied);
  }

  @Test
  void undecodableBytesAreAppliedAsANoopAndReportedInvalid() {
    apply(new KvCommand.Put("c1", "k", "v"));
    String before = sm.digest();

    sm.apply(LogEntry.command(2, 1, "definitely not cbor".getBytes(StandardCharsets.UTF_8)));
    sm.apply(LogEntry.command(3, 1, new byte[0]));

    assertEquals(3, sm.lastApplied());
    assertEquals(before, sm.digest());
    assertEquals(Optional.of(new VersionedValue("v", 1)), sm.get("k"));
    assertEquals(3, applied.size());
    for (Applied a : applied.subList(1, 3)) {
      assertNull(a.command());
      assertInstanceOf(KvResult.Invalid.class, a.result());
      assertTrue(((KvResult.Invalid) a.result()).reason().contains("index " + a.index()));
    }
    // The machine keeps working afterwards.
    assertEquals(new KvResult.Written("k", "w", 4), apply(new KvCommand.Put("c2", "k", "w")));
  }

  @Test
  void rangeReadsAppliedStateByPrefix() {
    apply(new KvCommand.Put("c1", "user/b", "2"));
    apply(new KvCommand.Put("c2", "user/a", "1"));
    apply(new KvCommand.Put("c3", "admin", "0"));
    apply(new KvCommand.Put("c4", "user/c", "3"));
    apply(new KvCommand.Delete("c5", "user/b"));

    assertEquals(
        List.of(new KeyValue("user/a", "1", 2), new KeyValue("user/c", "3", 4)), sm.range("user/", 10));
    assertEquals(List.of(new KeyValue("user/a", "1", 2)), sm.range("user/", 1));
  }

  @Test
  void worksWithoutAListener() {
    KvStateMachine plain = new KvStateMachine();
    plain.apply(LogEntry.command(1, 1, KvCodec.encode(new KvCommand.Put("c", "k", "v"))));
    assertEquals(Optional.of(new VersionedValue("v", 1)), plain.get("k"));
  }

  /**
   * A command proposed twice (its first proposal looked lost) may be committed twice. The second copy must
   * change nothing: here it would otherwise overwrite a later client's write, a lost update.
   */
  @Test
  void aRepeatedCommandIdChangesNothingAndGetsItsFirstResult() {
    KvCommand.Put first = new KvCommand.Put("node1-a-1", "k", "from A");
    KvResult original = apply(first);
    assertEquals(new KvResult.Written("k", "from A", 1), original);
    assertEquals(new KvResult.Written("k", "from B", 2), apply(new KvCommand.Put("node2-b-1", "k", "from B")));
    assertEquals(new KvResult.Written("k", (dev.tern.kv.Bytes) null, 1), apply(first),
        "the duplicate answers with its first result, less the value its proposer knows");
    assertEquals("from B", sm.get("k").orElseThrow().value().utf8(), "the later write survives the duplicate");
    assertEquals(2, sm.get("k").orElseThrow().revision());
  }

  /**
   * The deduplication window remembers outcomes, not values: otherwise every overwritten value would stay in
   * memory and in every snapshot for the next 100,000 commands (a few hundred 1 MiB writes would fill the heap).
   */
  @Test
  void theDeduplicationWindowKeepsNoOverwrittenValue() throws Exception {
    String big = "x".repeat(100_000);
    for (int i = 0; i < 20; i++) apply(new KvCommand.Put("c-" + i, "k", big + i));
    var out = new java.io.ByteArrayOutputStream();
    sm.snapshot().writeTo(out);
    assertTrue(out.size() < 2 * big.length(), "a snapshot of one key holds one value, not 20: " + out.size() + " bytes");
    assertEquals(Optional.of(new KvResult.Written("k", (dev.tern.kv.Bytes) null, 20)), sm.resultOf("c-19"));
  }
}
