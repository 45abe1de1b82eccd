package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftStorage.Chunk;
import dev.tern.raft.RaftStorage.ChunkWritten;
import dev.tern.raft.RaftStorage.Persisted;
import dev.tern.raft.RaftStorage.Write;
import dev.tern.raft.Configuration;
import dev.tern.raft.SnapshotMeta;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Snapshots in {@link FileStorage}: writing, compaction, receiving in pieces, and recovery (Figure 13). */
class FileStorageSnapshotTest {
  /** Three 37-byte records per segment. */
  private static final long TINY_SEGMENTS = 3L * (WalFormat.MIN_ENTRY_RECORD_BYTES + 8);
  private static final List<String> MEMBERS = List.of("n1", "n2", "n3");

  @TempDir Path tmp;
  private final List<FileStorage> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    for (FileStorage s : opened) s.close();
  }

  private FileStorage open(Path dir) {
    FileStorage s = FileStorage.open(dir, true, TINY_SEGMENTS);
    opened.add(s);
    return s;
  }

  private static LogEntry entry(long index, long term) {
    return LogEntry.command(index, term, String.format("v%07d", index).getBytes(StandardCharsets.US_ASCII));
  }

  private static List<LogEntry> entries(long from, long to, long term) {
    List<LogEntry> list = new ArrayList<>();
    for (long i = from; i <= to; i++) list.add(entry(i, term));
    return list;
  }

  private static byte[] state(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void durable(FileStorage s, long ticket) throws InterruptedException {
    assertTrue(s.awaitDurable(ticket, 10, TimeUnit.SECONDS), "ticket " + ticket + " not durable in time");
  }

  private static void save(FileStorage s, SnapshotMeta meta, byte[] data) throws Exception {
    CompletableFuture<Throwable> done = new CompletableFuture<>();
    s.saveSnapshot(meta, out -> out.write(data), done::complete);
    assertNull(done.get(10, TimeUnit.SECONDS));
  }

  private static ChunkWritten piece(FileStorage s, SnapshotMeta meta, long offset, byte[] data, boolean last) throws Exception {
    CompletableFuture<ChunkWritten> done = new CompletableFuture<>();
    s.writeSnapshotChunk(meta, offset, data, last, done::complete);
    return done.get(10, TimeUnit.SECONDS);
  }

  private static Chunk read(FileStorage s, SnapshotMeta meta, long offset, int max) throws Exception {
    CompletableFuture<Chunk> done = new CompletableFuture<>();
    s.readSnapshotChunk(meta, offset, max, done::complete);
    return done.get(10, TimeUnit.SECONDS);
  }

  private static List<String> files(Path dir) throws Exception {
    try (Stream<Path> list = Files.list(dir)) {
      return list.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** A node with entries 1..to of term 1, durable. */
  private FileStorage withLog(Path dir, long to) throws Exception {
    FileStorage s = open(dir);
    s.load();
    s.submit(new Write(new HardState(1, "n1"), 0, List.of()));
    durable(s, s.submit(new Write(null, 0, entries(1, to, 1))));
    return s;
  }

  @Test
  void aSavedSnapshotCompactsCoveredSegmentsAndIsRecoveredWithTheLogAfterIt() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 10); // segments [1-3] [4-6] [7-9] [10]
    SnapshotMeta meta = new SnapshotMeta(6, 1, MEMBERS);
    save(s, meta, state("state up to 6"));
    assertEquals(List.of(SnapshotFile.name(6)), files(dir).stream().filter(f -> f.startsWith("snapshot")).toList());
    durable(s, s.submit(new Write(null, 0, List.of(), 4)));
    // [1-3] is wholly covered; [4-6] still holds entries the trailing part keeps (5, 6 > 4).
    assertEquals(List.of(WalFormat.segmentName(4), WalFormat.segmentName(7), WalFormat.segmentName(10)),
        files(dir.resolve(FileStorage.LOG_DIR)));
    s.close();

    Persisted p = open(dir).load();
    assertEquals(meta, p.snapshot().meta());
    assertArrayEquals(state("state up to 6"), p.snapshot().data().readAll());
    assertEquals(entries(7, 10, 1), p.log());
    assertEquals(new HardState(1, "n1"), p.hardState());
  }

  // Dissertation 5.1 / docs/storage.md: a snapshot records the configuration in force at its index, addresses and
  // learners included (format version 2), and a file of version 1 (ids only) is still read, as voters.
  @Test
  void aSnapshotKeepsItsConfigurationAndAVersion1FileStillReads() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 4);
    Configuration config = new Configuration(List.of(new Configuration.Server("n1", "10.0.0.1", 7101, 8101, true),
        new Configuration.Server("n4", "h4", 7104, 8104, false)));
    save(s, new SnapshotMeta(3, 1, config), state("three"));
    s.close();
    assertEquals(config, open(dir).load().snapshot().meta().configuration());

    // A version 1 file as written before membership changes.
    byte[] data = state("old");
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 4 + 8 + 8 + 4 + 2 * (4 + 2) + data.length + 12);
    b.putInt(SnapshotFile.MAGIC).putInt(1).putLong(2).putLong(1).putInt(2);
    for (String id : List.of("n1", "n2")) b.putInt(2).put(id.getBytes(StandardCharsets.UTF_8));
    b.put(data);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(b.array(), 0, b.position());
    b.put(SnapshotFile.trailer(data.length, crc));
    SnapshotFile.Located old = SnapshotFile.parse(Path.of("old"), b.array());
    assertEquals(new SnapshotMeta(2, 1, List.of("n1", "n2")), old.meta());
    assertEquals(Configuration.ofVoters(List.of("n1", "n2")), old.meta().configuration());
  }

  @Test
  void aNewerSnapshotReplacesTheOlderFile() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 10);
    save(s, new SnapshotMeta(3, 1, MEMBERS), state("three"));
    save(s, new SnapshotMeta(9, 1, MEMBERS), state("nine"));
    assertEquals(List.of(SnapshotFile.name(9)), files(dir).stream().filter(f -> f.startsWith("snapshot")).toList());
    Chunk gone = read(s, new SnapshotMeta(3, 1, MEMBERS), 0, 100);
    assertNull(gone.data(), "the older snapshot can no longer be read for a follower");
  }

  @Test
  void compactingPastTheLogEndDropsEveryEntryAndTheLogGoesOnAfterIt() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 5);
    save(s, new SnapshotMeta(8, 2, MEMBERS), state("eight"));
    // A snapshot from the leader replaced a shorter log: drop it all, go on at 9.
    s.submit(new Write(new HardState(2, null), 1, List.of(), 8));
    durable(s, s.submit(new Write(null, 0, entries(9, 12, 2))));
    s.close();
    Persisted p = open(dir).load();
    assertEquals(8, p.snapshot().meta().lastIncludedIndex());
    assertEquals(entries(9, 12, 2), p.log());
  }

  // Figure 13, step 7, on recovery: a crash after a received snapshot was stored but before the log was reset
  // leaves a log that lacks the snapshot's last entry; it is stale, and is discarded.
  @Test
  void recoveryDiscardsALogThatDoesNotHoldTheSnapshotsLastEntry() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 7); // entries 1..7 of term 1
    byte[] data = state("leader state at 6, term 2");
    ChunkWritten done = piece(s, new SnapshotMeta(6, 2, MEMBERS), 0, data, true);
    assertNotNull(done.completed());
    s.close(); // "crash" before the reset write

    FileStorage again = open(dir);
    Persisted p = again.load();
    assertEquals(6, p.snapshot().meta().lastIncludedIndex());
    assertTrue(p.log().isEmpty(), "entries of term 1 at 6 and 7 conflict with the snapshot: " + p.log());
    assertTrue(files(dir.resolve(FileStorage.LOG_DIR)).isEmpty());
    durable(again, again.submit(new Write(null, 0, entries(7, 8, 2))));
    again.close();
    assertEquals(entries(7, 8, 2), open(dir).load().log());
  }

  // Step 6 on recovery: a log holding the snapshot's last entry with its term goes on after it.
  @Test
  void recoveryKeepsALogThatHoldsTheSnapshotsLastEntry() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 7);
    assertNotNull(piece(s, new SnapshotMeta(5, 1, MEMBERS), 0, state("five"), true).completed());
    s.close();
    assertEquals(entries(6, 7, 1), open(dir).load().log());
  }

  @Test
  void receivesPiecesInOrderOnlyAndMakesTheSnapshotDurableWhenComplete() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 2);
    SnapshotMeta meta = new SnapshotMeta(40, 3, MEMBERS);
    byte[] data = new byte[100];
    for (int i = 0; i < data.length; i++) data[i] = (byte) i;

    assertEquals(new ChunkWritten(30, null), piece(s, meta, 0, Arrays.copyOfRange(data, 0, 30), false));
    assertTrue(files(dir).contains(SnapshotFile.name(40) + ".partial"));
    // Out of order: refused, with where to go on from.
    assertEquals(new ChunkWritten(30, null), piece(s, meta, 60, Arrays.copyOfRange(data, 60, 100), true));
    // A piece of a snapshot it is not receiving, past its start: start over.
    assertEquals(new ChunkWritten(0, null), piece(s, new SnapshotMeta(41, 3, MEMBERS), 10, new byte[5], false));
    assertEquals(new ChunkWritten(60, null), piece(s, meta, 30, Arrays.copyOfRange(data, 30, 60), false));
    assertFalse(files(dir).contains(SnapshotFile.name(40)), "visible before it was complete");
    ChunkWritten done = piece(s, meta, 60, Arrays.copyOfRange(data, 60, 100), true);
    assertEquals(100, done.nextOffset());
    assertEquals(meta, done.completed().meta());
    assertArrayEquals(data, done.completed().data().readAll());
    assertTrue(files(dir).contains(SnapshotFile.name(40)));
    assertFalse(files(dir).contains(SnapshotFile.name(40) + ".partial"));

    Chunk middle = read(s, meta, 25, 50);
    assertEquals(100, middle.totalBytes());
    assertArrayEquals(Arrays.copyOfRange(data, 25, 75), middle.data());
    assertArrayEquals(Arrays.copyOfRange(data, 90, 100), read(s, meta, 90, 50).data());
  }

  @Test
  void aTransferCutByARestartStartsOver() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 2);
    SnapshotMeta meta = new SnapshotMeta(40, 3, MEMBERS);
    piece(s, meta, 0, new byte[30], false);
    s.close();
    FileStorage again = open(dir);
    assertNull(again.load().snapshot());
    assertFalse(files(dir).stream().anyMatch(f -> f.endsWith(".partial")), "partial transfer left behind");
    assertEquals(new ChunkWritten(0, null), piece(again, meta, 30, new byte[30], true));
  }

  @Test
  void leftoversOfInterruptedSnapshotWritesAreDeleted() throws Exception {
    Path dir = tmp.resolve("n1");
    withLog(dir, 2).close();
    Files.write(dir.resolve(SnapshotFile.name(2) + ".tmp"), new byte[] {1, 2, 3});
    Files.write(dir.resolve(SnapshotFile.name(2) + ".partial"), new byte[] {1, 2, 3});
    Persisted p = open(dir).load();
    assertNull(p.snapshot());
    assertEquals(2, p.log().size());
    assertFalse(files(dir).stream().anyMatch(f -> f.endsWith(".tmp") || f.endsWith(".partial")));
  }

  @Test
  void aDamagedSnapshotStopsTheNodeNamingTheFile() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 10);
    save(s, new SnapshotMeta(6, 1, MEMBERS), state("state up to 6, long enough to damage"));
    s.close();
    Path file = dir.resolve(SnapshotFile.name(6));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, 50);
      b.put(0, (byte) (b.get(0) ^ 0x40));
      ch.write(b.rewind(), 50);
    }
    StorageCorruptedException e = assertThrows(StorageCorruptedException.class, () -> open(dir));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
  }

  @Test
  void aLogStartingAfterTheSnapshotsEndIsAGapAndIsRefused() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 10);
    save(s, new SnapshotMeta(3, 1, MEMBERS), state("three"));
    s.close();
    Files.delete(dir.resolve(FileStorage.LOG_DIR).resolve(WalFormat.segmentName(4)));
    Files.delete(dir.resolve(FileStorage.LOG_DIR).resolve(WalFormat.segmentName(1)));
    StorageCorruptedException e = assertThrows(StorageCorruptedException.class, () -> open(dir));
    assertTrue(e.getMessage().contains("snapshot ends at entry 3"), e.getMessage());
  }

  @Test
  void aMissingHardStateNextToASnapshotIsRefused() throws Exception {
    Path dir = tmp.resolve("n1");
    FileStorage s = withLog(dir, 4);
    save(s, new SnapshotMeta(4, 1, MEMBERS), state("four"));
    durable(s, s.submit(new Write(null, 0, List.of(), 4)));
    s.close();
    Files.delete(dir.resolve(FileStorage.HARD_STATE));
    assertThrows(StorageCorruptedException.class, () -> open(dir));
  }
}
