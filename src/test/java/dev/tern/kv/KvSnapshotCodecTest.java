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
        new KvResult.Invalid("undecodable"),
        new KvResult.TxnDone(false, 8, List.of()),
        new KvResult.TxnDone(true, 9, List.of(new TxnOpResult.Put("p", 9), new TxnOpResult.Delete("d", true),
            new TxnOpResult.Delete("e", false), new TxnOpResult.Get("g", null, 3), new TxnOpResult.Get("h", null, 0))));
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

  /** Version 2 only added the transaction result: a snapshot written as version 1 is still read, a later one refused. */
  @Test
  void version1IsStillReadAndUnknownVersionsAreRefused() throws IOException {
    TreeMap<String, VersionedValue> data = new TreeMap<>();
    data.put("k", new VersionedValue("v", 2));
    LinkedHashMap<String, KvResult> recent = new LinkedHashMap<>();
    recent.put("p", new KvResult.Written("k", (Bytes) null, 2));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    KvSnapshotCodec.write(out, 2, data, recent);
    byte[] bytes = out.toByteArray();
    assertEquals(1, java.nio.ByteBuffer.wrap(bytes).getInt(0), "no transaction in the window: written as version 1");
    KvSnapshotCodec.State v1 = KvSnapshotCodec.read(bytes);
    assertEquals(data, v1.data());
    assertEquals(recent, v1.recent());
    org.junit.jupiter.api.Assertions.assertTrue(KvStateMachine.readsSnapshotVersion(1));
    org.junit.jupiter.api.Assertions.assertTrue(KvStateMachine.readsSnapshotVersion(2));
    org.junit.jupiter.api.Assertions.assertFalse(KvStateMachine.readsSnapshotVersion(0));
    org.junit.jupiter.api.Assertions.assertTrue(KvStateMachine.readsSnapshotVersion(3));
    org.junit.jupiter.api.Assertions.assertTrue(KvStateMachine.readsSnapshotVersion(KvSnapshotCodec.FILES));
    org.junit.jupiter.api.Assertions.assertFalse(KvStateMachine.readsSnapshotVersion(5));
    for (int version : new int[] {0, KvSnapshotCodec.FILES, 5}) {
      java.nio.ByteBuffer.wrap(bytes).putInt(0, version);
      IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> KvSnapshotCodec.read(bytes));
      assertEquals(version == KvSnapshotCodec.FILES ? "the snapshot holds a checkpoint's files, not keys"
          : "unknown key-value snapshot version " + version, e.getMessage());
    }
  }

  /** A transaction's result in the window makes it version 2, which a node without transactions refuses. */
  @Test
  void aTransactionInTheWindowMakesItVersion2() throws IOException {
    LinkedHashMap<String, KvResult> recent = new LinkedHashMap<>();
    recent.put("p", new KvResult.Written("k", (Bytes) null, 2));
    assertEquals(1, KvSnapshotCodec.versionFor(recent));
    recent.put("t", new KvResult.TxnDone(false, 3, List.of()));
    assertEquals(2, KvSnapshotCodec.versionFor(recent));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    KvSnapshotCodec.write(out, 3, new TreeMap<>(), recent);
    assertEquals(2, java.nio.ByteBuffer.wrap(out.toByteArray()).getInt(0));
    assertEquals(recent, KvSnapshotCodec.read(out.toByteArray()).recent());
  }

  @Test
  void aCorruptTransactionResultIsRefused() throws IOException {
    LinkedHashMap<String, KvResult> recent = new LinkedHashMap<>();
    recent.put("t", new KvResult.TxnDone(true, 5, List.of(new TxnOpResult.Get("g", null, 3))));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    KvSnapshotCodec.write(out, 5, new TreeMap<>(), recent);
    byte[] bytes = out.toByteArray();
    int txn = 4 + 8 + 4 + 4 + (4 + 1); // version, lastApplied, key count, id count, id "t"
    byte[] badType = bytes.clone();
    badType[txn + 1 + 1 + 8 + 4] = 9; // the operation result's type
    assertEquals("unknown operation result type 9 in key-value snapshot", org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> KvSnapshotCodec.read(badType)).getMessage());
    // A corrupt count is refused as such, not allocated (a list of 2^31 results would end the node).
    byte[] badCount = bytes.clone();
    java.nio.ByteBuffer.wrap(badCount).putInt(txn + 1 + 1 + 8, Integer.MAX_VALUE - 8);
    assertEquals("truncated key-value snapshot", org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> KvSnapshotCodec.read(badCount)).getMessage());
  }

  // A corrupt length must be refused as such, not allocated: 2 GiB for one value would end the node.
  @Test
  void aLengthPastTheEndIsRefusedWithoutAllocatingIt() throws IOException {
    TreeMap<String, VersionedValue> data = new TreeMap<>();
    data.put("k", new VersionedValue("v", 2));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    KvSnapshotCodec.write(out, 2, data, new LinkedHashMap<>());
    byte[] bytes = out.toByteArray();
    int keyLength = 4 + 8 + 4; // version, lastApplied, key count
    java.nio.ByteBuffer.wrap(bytes).putInt(keyLength + 4 + 1, Integer.MAX_VALUE); // the value's length
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> KvSnapshotCodec.read(bytes));
    org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  // The snapshot is written into a stream the storage then syncs: nothing may be left in a buffer on the way.
  @Test
  void everythingWrittenReachesTheStreamBeneathABuffer() throws IOException {
    TreeMap<String, VersionedValue> data = new TreeMap<>();
    data.put("k", new VersionedValue("v", 2));
    ByteArrayOutputStream direct = new ByteArrayOutputStream();
    KvSnapshotCodec.write(direct, 2, data, new LinkedHashMap<>());
    ByteArrayOutputStream beneath = new ByteArrayOutputStream();
    KvSnapshotCodec.write(new java.io.BufferedOutputStream(beneath, 1 << 16), 2, data, new LinkedHashMap<>());
    org.junit.jupiter.api.Assertions.assertArrayEquals(direct.toByteArray(), beneath.toByteArray());
  }
}
