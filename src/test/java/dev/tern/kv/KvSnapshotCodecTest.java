package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The snapshot's encoding of the deduplication window (section 7: a snapshot holds the whole state, and the
 * window is part of it): every kind of result reads back as it was written, in order.
 */
class KvSnapshotCodecTest {

  @Test
  void everyKindOfResultReadsBackAsWritten() throws IOException {
    LinkedHashMap<String, KvResult> recent = new LinkedHashMap<>();
    List<KvResult> results = List.of(
        new KvResult.Written("a", "with its value", 3),
        new KvResult.Written("a", (dev.tern.kv.Bytes) null, 4),
        new KvResult.Deleted("b", 5),
        new KvResult.NotFound("c"),
        new KvResult.Value("d", "seen", 6),
        new KvResult.CasConflict("e", 7),
        new KvResult.Invalid("undecodable"));
    for (int i = 0; i < results.size(); i++) recent.put("id-" + i, results.get(i));
    TreeMap<String, VersionedValue> data = new TreeMap<>();
    data.put("a", new VersionedValue("with its value", 4));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    KvSnapshotCodec.write(out, 9, data, recent);

    KvSnapshotCodec.State state = KvSnapshotCodec.read(out.toByteArray());
    assertEquals(9, state.lastApplied());
    assertEquals(data, state.data());
    assertEquals(List.copyOf(recent.entrySet()), List.copyOf(state.recent().entrySet()));
  }
}
