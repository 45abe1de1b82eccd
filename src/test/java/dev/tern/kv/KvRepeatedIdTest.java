package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tern.raft.LogEntry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A command id applied again within the window (a client's retry through another node, docs/api.md "Exactly-once
 * writes") changes nothing and is answered with the first result, with the first write's value when the key still
 * holds it.
 */
class KvRepeatedIdTest {
  private final List<KvResult> results = new ArrayList<>();
  private final KvStateMachine sm = new KvStateMachine((index, command, result) -> results.add(result));

  private KvResult apply(KvCommand c) {
    sm.apply(LogEntry.command(sm.lastApplied() + 1, 1, KvCodec.encode(c)));
    return results.get(results.size() - 1);
  }

  @Test
  void aRetryWithAnotherBodyGetsTheFirstResultAndTheFirstValue() {
    assertEquals(new KvResult.Written("k", "first", 1), apply(new KvCommand.Put("req:a", "k", "first")));
    assertEquals(new KvResult.Written("k", "first", 1), apply(new KvCommand.Put("req:a", "k", "second")));
    assertEquals(new KvResult.Written("k", "first", 1), apply(new KvCommand.Put("req:a", "other", "third")),
        "even for another key: the id names the first request");
    assertEquals(new VersionedValue("first", 1), sm.get("k").orElseThrow());
    assertEquals(1, sm.size(), "the retries wrote nothing");
    assertEquals(3, sm.lastApplied());
  }

  @Test
  void onceTheKeyIsOverwrittenTheFirstValueIsNoLongerKnown() {
    apply(new KvCommand.Put("req:a", "k", "first"));
    apply(new KvCommand.Put("req:b", "k", "later"));
    assertEquals(new KvResult.Written("k", (Bytes) null, 1), apply(new KvCommand.Put("req:a", "k", "first")));
    assertEquals(new VersionedValue("later", 2), sm.get("k").orElseThrow(), "the retry did not undo the later write");
    apply(new KvCommand.Delete("req:c", "k"));
    assertEquals(new KvResult.Written("k", (Bytes) null, 1), apply(new KvCommand.Put("req:a", "k", "first")),
        "deleted since: no value either");
    assertEquals(0, sm.size());
  }

  @Test
  void aRetriedDeleteOrCasGetsItsFirstOutcome() {
    apply(new KvCommand.Put("p", "k", "v"));
    assertEquals(new KvResult.Deleted("k", 2), apply(new KvCommand.Delete("req:d", "k")));
    assertEquals(new KvResult.Deleted("k", 2), apply(new KvCommand.Delete("req:d", "k")), "not 404: the first result");
    assertEquals(new KvResult.Written("k", "x", 4), apply(new KvCommand.CompareAndSet("req:c", "k", 0, "x")));
    assertEquals(new KvResult.Written("k", "x", 4), apply(new KvCommand.CompareAndSet("req:c", "k", 0, "x")),
        "not a conflict: the first result");
    apply(new KvCommand.Put("w", "k", "y"));
    assertEquals(new KvResult.CasConflict("k", 6), apply(new KvCommand.CompareAndSet("req:e", "k", 1, "z")));
    assertEquals(new KvResult.CasConflict("k", 6), apply(new KvCommand.CompareAndSet("req:e", "k", 6, "z")),
        "a conflict stays a conflict, though the retry would now match");
    assertEquals(new VersionedValue("y", 6), sm.get("k").orElseThrow());
  }

  /** The window, and so the recall, survives a snapshot. */
  @Test
  void aRetryAfterASnapshotIsStillRecognised() throws Exception {
    apply(new KvCommand.Put("req:a", "k", "first"));
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    sm.snapshot().writeTo(bytes);
    List<KvResult> seen = new ArrayList<>();
    KvStateMachine restored = new KvStateMachine((index, command, result) -> seen.add(result));
    restored.restore(1, bytes.toByteArray());
    restored.apply(LogEntry.command(2, 1, KvCodec.encode(new KvCommand.Put("req:a", "k", "second"))));
    assertEquals(List.of(new KvResult.Written("k", "first", 1)), seen);
    assertEquals(new VersionedValue("first", 1), restored.get("k").orElseThrow());
  }
}
