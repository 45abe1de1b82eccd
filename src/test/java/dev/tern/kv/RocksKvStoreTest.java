package dev.tern.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.LogEntry;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.rocksdb.RocksDB;
import org.junit.jupiter.api.io.TempDir;

/** The key-value state on disk behaves as the one in memory, survives a reopen, a restore and a crash. */
class RocksKvStoreTest {

  static final RocksKvStore.Settings SMALL = new RocksKvStore.Settings(8 << 20, 4 << 20);

  @TempDir Path dir;

  static KvStateMachine onDisk(Path dir) {
    return new KvStateMachine((i, c, r) -> {}, WatchHub.withoutHistory(), changes -> RocksKvStore.open(dir, SMALL, changes));
  }

  static KvStateMachine inMemory() {
    return new KvStateMachine();
  }

  static KvStateMachine inMemoryAfter(List<LogEntry> log) {
    KvStateMachine sm = inMemory();
    applyAll(sm, log);
    return sm;
  }

  static void applyAll(KvStateMachine sm, List<LogEntry> log) {
    for (LogEntry e : log) sm.apply(e);
  }

  /** Every observable of the state, for comparing two state machines. */
  private static void assertSameState(KvStateMachine expected, KvStateMachine actual) {
    assertEquals(expected.lastApplied(), actual.lastApplied(), "applied index");
    assertEquals(expected.contents(), actual.contents(), "data");
    assertEquals(expected.digest(), actual.digest(), "digest");
    assertEquals(expected.size(), actual.size(), "key count");
    assertEquals(expected.dataBytes(), actual.dataBytes(), "data bytes");
    assertEquals(expected.leases(), actual.leases(), "leases");
    assertEquals(expected.range("k/1", 7), actual.range("k/1", 7), "range");
    assertEquals(expected.range("", 1000), actual.range("", 1000), "whole range");
    for (int i = 1; i <= expected.lastApplied(); i++) {
      assertEquals(expected.resultOf("cmd-" + i), actual.resultOf("cmd-" + i), "window: cmd-" + i);
    }
  }

  @Test
  void appliesAsTheStoreInMemoryDoes() {
    List<LogEntry> log = KvWorkload.log(7, 3000);
    KvStateMachine memory = inMemory();
    applyAll(memory, log);
    try (var closer = new Closer(onDisk(dir))) {
      applyAll(closer.sm, log);
      assertSameState(memory, closer.sm);
      assertTrue(memory.leases().size() > 0 && memory.size() > 50, "the workload left leases and keys to compare");
    }
  }

  /** Applies {@code log} to {@code memory} and, {@code batch} entries at a time, to a store on disk, which it reopens. */
  private Closer reopenedAfter(List<LogEntry> log, int batch, KvStateMachine memory) {
    applyAll(memory, log);
    KvStateMachine first = onDisk(dir);
    for (int from = 0; from < log.size(); from += batch) first.apply(log.subList(from, Math.min(log.size(), from + batch)));
    first.close();
    return new Closer(onDisk(dir));
  }

  @Test
  void reopensWhereItStoppedWithoutReplaying() {
    KvStateMachine memory = inMemory();
    try (var closer = reopenedAfter(KvWorkload.log(11, 2000), 1, memory)) {
      assertSameState(memory, closer.sm);
      // Goes on from there: the next entry applies on top.
      LogEntry next = LogEntry.command(2001, 99, KvCodec.encode(new KvCommand.Put("after", "k/after", "v")));
      closer.sm.apply(next);
      memory.apply(next);
      assertSameState(memory, closer.sm);
    }
  }

  /**
   * Entries handed over in batches (as the replica applies what became committed at once) give the state one by one
   * gives, each batch one write with its last index: a reopen finds the index of the last whole batch.
   */
  @Test
  void batchesApplyAsSingleEntriesDoAndCommitAtTheirLastIndex() {
    KvStateMachine memory = inMemory();
    try (var closer = reopenedAfter(KvWorkload.log(17, 3000), 97, memory)) {
      assertEquals(3000, ((RocksKvStore) closer.sm.store()).appliedIndex());
      assertSameState(memory, closer.sm);
    }
  }

  /** Applies commands {@code cmd-from} .. {@code cmd-to} at indexes from .. to, in commits of {@code perCommit}. */
  private static void applyPuts(KvStateMachine sm, int from, int to, int perCommit) {
    List<LogEntry> batch = new java.util.ArrayList<>();
    for (int i = from; i <= to; i++) {
      batch.add(LogEntry.command(i, 1, KvCodec.encode(new KvCommand.Put("cmd-" + i, "k/" + (i % 100), "v" + i))));
      if (batch.size() == perCommit || i == to) {
        sm.apply(batch);
        batch = new java.util.ArrayList<>();
      }
    }
  }

  private static List<byte[]> keysWithPrefix(KvStateMachine sm, byte prefix) {
    List<byte[]> out = new java.util.ArrayList<>();
    RocksDB rocks = ((RocksKvStore) sm.store()).rocksForTests();
    try (org.rocksdb.RocksIterator it = rocks.newIterator()) {
      for (it.seek(new byte[] {prefix}); it.isValid() && it.key()[0] == prefix; it.next()) out.add(it.key());
    }
    return out;
  }

  /**
   * The window on disk is one record per commit, deleted once all its results have left the window; a reopened
   * store gives back exactly the newest {@code DEDUPLICATION_WINDOW} results, oldest first, though the oldest record
   * still holds a few results that have left it.
   */
  @Test
  void theWindowIsARecordPerCommitAndComesBackExactlyAfterAReopen() {
    int extra = 1234;
    int n = KvStateMachine.DEDUPLICATION_WINDOW + extra;
    KvStateMachine sm = onDisk(dir);
    applyPuts(sm, 1, n, 500);
    List<byte[]> records = keysWithPrefix(sm, RocksWindow.RECORD);
    int commits = (n + 499) / 500;
    // The window's 100,000 results span 200 commits of 500, or 201 when its oldest result is not a commit's first.
    assertTrue(records.size() >= KvStateMachine.DEDUPLICATION_WINDOW / 500
            && records.size() <= KvStateMachine.DEDUPLICATION_WINDOW / 500 + 1,
        "one record per commit, the old ones deleted: " + records.size() + " records after " + commits + " commits");
    sm.close();
    try (var closer = new Closer(onDisk(dir))) {
      List<KvStore.Remembered> window = closer.sm.store().window();
      assertEquals(KvStateMachine.DEDUPLICATION_WINDOW, window.size());
      assertEquals("cmd-" + (extra + 1), window.get(0).id(), "the oldest kept");
      assertEquals("cmd-" + n, window.get(window.size() - 1).id(), "the newest");
      for (int i = 1; i < window.size(); i++) assertEquals(window.get(i - 1).seq() + 1, window.get(i).seq(), "in order");
      assertTrue(closer.sm.resultOf("cmd-" + extra).isEmpty(), "pushed out of the window");
      assertTrue(closer.sm.resultOf("cmd-" + (extra + 1)).isPresent(), "still in the window");
      // The same commands applied in other commits (another replica's) leave the same window.
      Path other = dir.resolveSibling(dir.getFileName() + "-other");
      try {
        KvStateMachine replica = onDisk(other);
        applyPuts(replica, 1, n, 777);
        replica.close();
        try (var reopened = new Closer(onDisk(other))) {
          assertEquals(window, reopened.sm.store().window());
        }
      } finally {
        RocksStoreDirs.deleteTree(other);
      }
    }
  }

  /** A window kept as earlier builds did (a ring of slot records) is read back, and its slots deleted as it moves on. */
  @Test
  void aWindowInLegacySlotsIsReadAndRetired() throws Exception {
    KvStateMachine sm = onDisk(dir);
    sm.close();
    try (org.rocksdb.Options options = new org.rocksdb.Options();
        RocksDB rocks = RocksDB.open(options, RocksStoreDirs.current(dir).toString())) {
      for (int seq = 0; seq < 10; seq++) {
        KvStore.Remembered r = new KvStore.Remembered(seq, "old-" + seq, new KvResult.Written("k/old", (Bytes) null, seq + 1));
        rocks.put(RocksWindow.legacySlotKey(seq), RocksRecords.encodeRemembered(r));
      }
      rocks.flush(new org.rocksdb.FlushOptions().setWaitForFlush(true));
    }
    try (var closer = new Closer(onDisk(dir))) {
      assertTrue(closer.sm.resultOf("old-3").isPresent(), "a legacy result is in the window");
      applyPuts(closer.sm, 1, KvStateMachine.DEDUPLICATION_WINDOW - 5, 1000);
      assertTrue(closer.sm.resultOf("old-4").isEmpty() && closer.sm.resultOf("old-5").isPresent(), "the oldest left first");
      assertEquals(5, keysWithPrefix(closer.sm, RocksWindow.LEGACY_SLOT).size(), "the slots of the results that left are deleted");
      applyPuts(closer.sm, KvStateMachine.DEDUPLICATION_WINDOW - 4, KvStateMachine.DEDUPLICATION_WINDOW + 5, 1000);
      assertEquals(0, keysWithPrefix(closer.sm, RocksWindow.LEGACY_SLOT).size());
    }
    try (var closer = new Closer(onDisk(dir))) {
      List<KvStore.Remembered> window = closer.sm.store().window();
      assertEquals(KvStateMachine.DEDUPLICATION_WINDOW, window.size());
      assertEquals("cmd-6", window.get(0).id(), "10 legacy results and cmd-1..5 left: seq 15 is the oldest kept");
    }
  }

  /**
   * A store on disk captures a RocksDB checkpoint (issue #25, section 4): its files, at exactly the capture's index
   * (what is applied after it is not in them), restore another store on disk, which a reopen finds as restored; the
   * checkpoint's directory is gone once written out. A store in memory cannot take files, and says so.
   */
  @Test
  void aCheckpointOnDiskRestoresOnDiskAtItsIndex() throws IOException {
    List<LogEntry> log = KvWorkload.log(13, 2500);
    Path a = dir.resolve("a");
    KvStateMachine source = onDisk(a);
    applyAll(source, log.subList(0, 2000));
    KvStateMachine.Capture capture = source.capture();
    applyAll(source, log.subList(2000, 2500)); // after the capture: not in it
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    capture.data().writeTo(bytes);
    assertEquals(2000, capture.index());
    assertEquals(KvSnapshotCodec.FILES, java.nio.ByteBuffer.wrap(bytes.toByteArray()).getInt(), "files, not keys");
    assertEquals(List.of(), entries(a, "checkpoint-"), "the checkpoint is deleted once written out");

    KvStateMachine expected = inMemory();
    applyAll(expected, log.subList(0, 2000));
    KvStateMachine memory = inMemory();
    Exception refused = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
        () -> memory.restore(2000, bytes.toByteArray()));
    assertTrue(refused.getMessage().contains("checkpoint"), refused.getMessage());

    Path b = dir.resolve("b");
    KvStateMachine target = onDisk(b);
    applyAll(target, KvWorkload.log(99, 300)); // something to replace
    target.restore(2000, bytes.toByteArray());
    assertSameState(expected, target);
    // It goes on from there as the source did.
    applyAll(target, log.subList(2000, 2500));
    applyAll(expected, log.subList(2000, 2500));
    assertSameState(expected, target);
    target.close();
    assertEquals(List.of("store-2"), entries(b, "store-"), "the replaced store is deleted, the restored one in force");
    try (var closer = new Closer(onDisk(b))) {
      assertSameState(expected, closer.sm);
    }
    source.close();
  }

  /**
   * The hot values' cache ({@link ValueCache}) never answers what the store does not hold: with none, one so small that
   * it evicts at nearly every put, and a roomy one, every key reads as in memory through the workload, after a restore
   * of an earlier checkpoint (which replaces values that the cache held) and after a reopen.
   */
  @Test
  void everyKeyReadsAsInMemoryWhateverTheValueCache() throws IOException {
    List<LogEntry> log = KvWorkload.log(17, 3000);
    KvStateMachine half = inMemoryAfter(log.subList(0, 1500));
    KvStateMachine whole = inMemoryAfter(log);
    java.util.Set<String> keys = new java.util.TreeSet<>(half.contents().keySet());
    keys.addAll(whole.contents().keySet());
    keys.add("never-written");
    for (long cacheBytes : new long[] {0, 4 << 10, 4 << 20}) {
      Path d = dir.resolve("cache-" + cacheBytes);
      var opened = new java.util.concurrent.atomic.AtomicReference<RocksKvStore>();
      RocksKvStore.Settings settings = new RocksKvStore.Settings(8 << 20, 4 << 20, cacheBytes);
      KvStateMachine sm = new KvStateMachine((i, c, r) -> {}, WatchHub.withoutHistory(), changes -> {
        opened.set(RocksKvStore.open(d, settings, changes));
        return opened.get();
      });
      applyAll(sm, log.subList(0, 1500));
      byte[] earlier = capturedBytes(sm);
      applyAll(sm, log.subList(1500, 3000));
      assertSameGets(whole, sm, keys, "cache " + cacheBytes + " after the workload");
      assertSameGets(whole, sm, keys, "cache " + cacheBytes + " read again");
      if (cacheBytes > 0) assertTrue(opened.get().valueCacheHits() > 0, "the cache answered");
      else assertEquals(0, opened.get().valueCacheHits());
      sm.restore(1500, earlier);
      assertSameGets(half, sm, keys, "cache " + cacheBytes + " after restoring index 1500");
      assertSameState(half, sm);
      sm.close();
      try (var closer = new Closer(new KvStateMachine((i, c, r) -> {}, WatchHub.withoutHistory(),
          changes -> RocksKvStore.open(d, settings, changes)))) {
        assertSameGets(half, closer.sm, keys, "cache " + cacheBytes + " reopened");
      }
    }
  }

  private static void assertSameGets(KvStateMachine expected, KvStateMachine actual, java.util.Set<String> keys, String when) {
    for (String k : keys) assertEquals(expected.get(k), actual.get(k), when + ": " + k);
  }

  /**
   * The levels that flushes and compactions rewrite most are not compressed (as in TiKV); the deeper ones are, with LZ4
   * and at the bottom ZSTD, which this build of RocksDB must carry (a store would not open otherwise).
   */
  @Test
  void onlyTheDeeperLevelsAreCompressed() throws IOException {
    try (var closer = new Closer(onDisk(dir))) {
      applyAll(closer.sm, KvWorkload.log(5, 200));
    }
    String options;
    try (Stream<Path> files = Files.walk(dir)) {
      Path newest = files.filter(p -> p.getFileName().toString().startsWith("OPTIONS-")).max(java.util.Comparator.naturalOrder())
          .orElseThrow();
      options = Files.readString(newest);
    }
    assertTrue(options.contains("compression_per_level=kNoCompression:kNoCompression:kLZ4Compression:kLZ4Compression:"
        + "kLZ4Compression:kZSTD:kZSTD"), options.lines().filter(l -> l.contains("compression")).toList().toString());
    assertTrue(options.contains("bottommost_compression=kZSTD"), "bottommost");
  }

  /** A checkpoint's bytes at {@code index} of files given as name, size (content: that many zeros), name, size... */
  private static byte[] files(long index, Object... nameAndSize) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
    out.writeInt(KvSnapshotCodec.FILES);
    out.writeLong(index);
    out.writeInt(nameAndSize.length / 2);
    for (int i = 0; i < nameAndSize.length; i += 2) {
      byte[] name = ((String) nameAndSize[i]).getBytes(StandardCharsets.UTF_8);
      int size = (Integer) nameAndSize[i + 1];
      out.writeInt(name.length);
      out.write(name);
      out.writeLong(size);
      out.write(new byte[Math.max(0, size)]);
    }
    return bytes.toByteArray();
  }

  /** What a capture of {@code sm}'s state now writes. */
  private static byte[] capturedBytes(KvStateMachine sm) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    sm.capture().data().writeTo(bytes);
    return bytes.toByteArray();
  }

  /** The names in {@code dir} that start with {@code prefix}. */
  private static List<String> entries(Path dir, String prefix) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix)).sorted().toList();
    }
  }

  /** A store in memory still restores on disk from keys: snapshots and backups written before checkpoints. */
  @Test
  void aSnapshotOfKeysRestoresOnDisk() throws IOException {
    KvStateMachine expected = inMemoryAfter(KvWorkload.log(21, 1500));
    byte[] bytes = capturedBytes(expected);
    assertTrue(KvSnapshotCodec.readable(java.nio.ByteBuffer.wrap(bytes).getInt()), "keys");
    try (var closer = new Closer(onDisk(dir))) {
      applyAll(closer.sm, KvWorkload.log(3, 200));
      closer.sm.restore(1500, bytes);
      assertSameState(expected, closer.sm);
    }
  }

  /**
   * A checkpoint cut short (a transfer that broke off), one of another index, or one whose files are not a store, is
   * refused and leaves the store in force as it was, its half-written files deleted.
   */
  @Test
  void aBadCheckpointLeavesTheStoreAsItWas() throws IOException {
    KvStateMachine source = onDisk(dir.resolve("a"));
    applyAll(source, KvWorkload.log(31, 900));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    source.capture().data().writeTo(bytes);
    source.close();
    byte[] whole = bytes.toByteArray();
    byte[] truncated = java.util.Arrays.copyOf(whole, whole.length - 100);
    byte[] trailing = java.util.Arrays.copyOf(whole, whole.length + 1);
    byte[] noCurrent = files(900, "000001.sst", 3);
    byte[] escapes = files(900, "../CURRENT", 0);
    byte[] twice = files(900, "CURRENT", 1, "CURRENT", 1);
    byte[] negative = files(900, "CURRENT", -1);

    KvStateMachine kept = inMemory();
    applyAll(kept, KvWorkload.log(5, 300));
    Path c = dir.resolve("c");
    try (var closer = new Closer(onDisk(c))) {
      applyAll(closer.sm, KvWorkload.log(5, 300));
      assertThrowsIllegalArgument(() -> closer.sm.restore(900, truncated));
      assertThrowsIllegalArgument(() -> closer.sm.restore(901, whole));
      for (byte[] bad : List.of(trailing, noCurrent, escapes, twice, negative)) {
        assertThrowsIllegalArgument(() -> closer.sm.restore(900, bad));
      }
      assertSameState(kept, closer.sm);
      assertEquals(List.of("store-1"), entries(c, "store-"), "nothing left of the refused files");
    }
    try (var closer = new Closer(onDisk(c))) {
      assertSameState(kept, closer.sm);
    }
  }

  @Test
  void aRestoreThatFailsHalfwayLeavesTheStoreAsItWas() throws IOException {
    byte[] bytes = capturedBytes(inMemoryAfter(KvWorkload.log(17, 800)));
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length / 2);

    KvStateMachine kept = inMemory();
    applyAll(kept, KvWorkload.log(5, 300));
    try (var closer = new Closer(onDisk(dir))) {
      applyAll(closer.sm, KvWorkload.log(5, 300));
      assertThrowsIllegalArgument(() -> closer.sm.restore(800, truncated));
      assertSameState(kept, closer.sm);
    }
    try (var closer = new Closer(onDisk(dir))) {
      assertSameState(kept, closer.sm);
    }
  }

  private static void assertThrowsIllegalArgument(Runnable r) {
    try {
      r.run();
    } catch (IllegalArgumentException expected) {
      return;
    }
    throw new AssertionError("expected an IllegalArgumentException");
  }

  @Test
  void quotaSizeCountsKeysAndValuesAndFallsOnDelete() {
    try (var closer = new Closer(onDisk(dir))) {
      KvStateMachine sm = closer.sm;
      sm.apply(LogEntry.command(1, 1, KvCodec.encode(new KvCommand.Put("1", "ab", "xyz"))));
      sm.apply(LogEntry.command(2, 1, KvCodec.encode(new KvCommand.Put("2", "é", "1234567"))));
      assertEquals(2 + 3 + 2 + 7, sm.dataBytes());
      sm.apply(LogEntry.command(3, 1, KvCodec.encode(new KvCommand.Put("3", "ab", "x"))));
      assertEquals(2 + 1 + 2 + 7, sm.dataBytes());
      sm.apply(LogEntry.command(4, 1, KvCodec.encode(new KvCommand.Delete("4", "é"))));
      assertEquals(3, sm.dataBytes());
      assertEquals(1, sm.size());
    }
  }

  /** Closes a state machine after a test. */
  record Closer(KvStateMachine sm) implements AutoCloseable {
    @Override
    public void close() {
      sm.close();
    }
  }
}
