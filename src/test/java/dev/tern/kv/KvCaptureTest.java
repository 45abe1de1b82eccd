package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tern.raft.LogEntry;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.api.Test;

/** The capture behind backups: the index it holds, unchanged by later applies. */
class KvCaptureTest {
  @Test
  void aCaptureKnowsItsIndexAndIgnoresLaterApplies() throws Exception {
    KvStateMachine sm = new KvStateMachine();
    sm.apply(LogEntry.noop(1, 1));
    sm.apply(LogEntry.command(2, 1, KvCodec.encode(new KvCommand.Put("c1", "k", "v1"))));
    KvStateMachine.Capture capture = sm.capture();
    sm.apply(LogEntry.command(3, 1, KvCodec.encode(new KvCommand.Put("c2", "k", "v2"))));
    assertEquals(2, capture.index());

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    capture.data().writeTo(out);
    KvStateMachine restored = new KvStateMachine();
    restored.restore(2, out.toByteArray());
    assertEquals(2, restored.lastApplied());
    assertEquals("v1", restored.get("k").orElseThrow().value().utf8());
    assertEquals(2, restored.get("k").orElseThrow().revision());
  }
}
