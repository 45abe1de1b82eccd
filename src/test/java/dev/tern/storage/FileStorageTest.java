package dev.tern.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftStorage.Persisted;
import dev.tern.raft.RaftStorage.Write;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileStorageTest {
  private static final long BIG_SEGMENTS = 64L << 20;
  /** Each test entry carries 8 bytes of data, so every record is 8 + 21 + 8 = 37 bytes. */
  private static final int RECORD = WalFormat.MIN_ENTRY_RECORD_BYTES + 8;
  /** Three records per segment: a segment rolls once it holds at least this many bytes. */
  private static final long TINY_SEGMENTS = 3 * RECORD;

  @TempDir Path tmp;
  private final List<FileStorage> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    for (FileStorage s : opened) s.close();
  }

  private FileStorage open(Path dir, boolean fsync, long segmentBytes) {
    FileStorage s = FileStorage.open(dir, fsync, segmentBytes);
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

  private static void awaitDurable(FileStorage s, long ticket) throws InterruptedException {
    assertTrue(s.awaitDurable(ticket, 10, TimeUnit.SECONDS), "ticket " + ticket + " not durable in time");
  }

  /** Writes the entries in writes of {@code perWrite}, waits until durable, closes. */
  private void writeLog(Path dir, long segmentBytes, List<LogEntry> log, int perWrite) throws Exception {
    FileStorage s = open(dir, true, segmentBytes);
    s.load();
    long t = 0;
    t = s.submit(new Write(new HardState(log.isEmpty() ? 1 : log.get(log.size() - 1).term(), null), 0, List.of()));
    for (int i = 0; i < log.size(); i += perWrite) {
      t = s.submit(new Write(null, 0, log.subList(i, Math.min(log.size(), i + perWrite))));
    }
    awaitDurable(s, t);
    s.close();
  }

  private static Path logDir(Path dir) {
    return dir.resolve(FileStorage.LOG_DIR);
  }

  /** Segment file name to the bytes of its records, in log order. */
  private static Map<String, Long> segments(Path dir) throws IOException {
    Map<String, Long> out = new LinkedHashMap<>();
    try (Stream<Path> files = Files.list(logDir(dir))) {
      for (Path p : files.sorted().toList()) out.put(p.getFileName().toString(), dataBytes(p));
    }
    return out;
  }

  /**
   * The bytes of a segment's records: its size without the zeros after them (the room the writer preallocates
   * in the last segment). Every test entry's data ends with a digit, so no record ends with a zero byte.
   */
  private static long dataBytes(Path file) throws IOException {
    byte[] b = Files.readAllBytes(file);
    int end = b.length;
    while (end > 0 && b[end - 1] == 0) end--;
    return end;
  }

  private static Path lastSegment(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(logDir(dir))) {
      return files.sorted().reduce((a, b) -> b).orElseThrow();
    }
  }

  /** Writes {@code bytes} right after the segment's records, where the writer's next record would have gone. */
  private static void appendBytes(Path file, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      long at = dataBytes(file);
      while (b.hasRemaining()) at += ch.write(b, at);
    }
  }

  private static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset);
      b.put(0, (byte) (b.get(0) ^ 0x5A));
      b.rewind();
      ch.write(b, offset);
    }
  }

  // ---- failure --------------------------------------------------------------------------------------

  /** A disk error stops the writer: nothing more becomes durable, and the owner is told so it can stop. */
  @Test
  void aWriteErrorIsReportedAndNothingMoreBecomesDurable() throws Exception {
    Path dir = tmp.resolve("failing");
    FileStorage s = open(dir, true, 1); // every record rolls to a new segment
    s.load();
    // The segment for index 2 cannot be created: a directory stands where its file would go.
    Files.createDirectories(dir.resolve("log").resolve("segment-00000000000000000002.wal"));
    LinkedBlockingQueue<Throwable> reported = new LinkedBlockingQueue<>();
    s.onFailure(reported::add);
    long first = s.submit(new Write(new HardState(1, "n1"), 0, List.of(LogEntry.noop(1, 1))));
    long second = s.submit(new Write(null, 0, List.of(entry(2, 1))));
    Throwable t = reported.poll(10, TimeUnit.SECONDS);
    assertTrue(t != null, "the failure was reported");
    assertEquals(t, s.failure());
    assertTrue(s.durableTicket() < second, "the failed write never became durable");
    assertTrue(first <= second);
  }

  // ---- round trip ------------------------------------------------------------------------------------

  @Test
  void roundTripHardStateAndEntries() throws Exception {
    Path dir = tmp.resolve("node"); // does not exist yet: open creates it
    FileStorage s = open(dir, true, BIG_SEGMENTS);
    Persisted fresh = s.load();
    assertEquals(HardState.INITIAL, fresh.hardState());
    assertTrue(fresh.log().isEmpty());
    assertEquals(0, s.durableTicket());

    LinkedBlockingQueue<Long> reported = new LinkedBlockingQueue<>();
    s.onDurable(reported::add);
    byte[] big = new byte[3 << 20]; // larger than the initial write buffer
    for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
    List<LogEntry> log =
        List.of(
            LogEntry.noop(1, 1),
            entry(2, 1),
            LogEntry.command(3, 1, new byte[0]),
            LogEntry.command(4, 2, big),
            // a configuration entry (membership changes) keeps its kind on disk
            LogEntry.config(5, 2, dev.tern.raft.Configuration.ofVoters(List.of("n1", "n2", "n4"))));
    long t1 = s.submit(new Write(new HardState(1, "n2"), 0, List.of()));
    long t2 = s.submit(new Write(null, 0, log.subList(0, 3)));
    long t3 = s.submit(new Write(new HardState(2, null), 0, log.subList(3, 5)));
    assertEquals(1, t1);
    assertEquals(t1 + 1, t2);
    assertEquals(t2 + 1, t3);

    long last = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (last < t3) {
      Long t = reported.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      assertTrue(t != null, "the onDurable listener did not report ticket " + t3);
      assertTrue(t > last, "reported tickets must increase");
      last = t;
    }
    assertEquals(t3, last);
    assertEquals(t3, s.durableTicket());
    assertTrue(s.fsyncCount() > 0);
    s.close();

    Persisted back = open(dir, true, BIG_SEGMENTS).load();
    assertEquals(new HardState(2, null), back.hardState());
    assertEquals(log, back.log());
  }

  @Test
  void aSecondLoadWaitsForTheWritesAndReadsThemBack() {
    FileStorage s = open(tmp, true, TINY_SEGMENTS);
    s.load();
    s.submit(new Write(new HardState(3, "n1"), 0, entries(1, 10, 3)));
    s.submit(new Write(null, 6, entries(6, 7, 3)));
    long t = s.submit(new Write(new HardState(4, null), 0, List.of()));
    Persisted again = s.load(); // as a node does when it restarts its ActorSystem over the same storage
    assertEquals(t, s.durableTicket());
    assertEquals(new HardState(4, null), again.hardState());
    assertEquals(entries(1, 7, 3), again.log());
  }

  @Test
  void appendsMustContinueTheLog() {
    FileStorage s = open(tmp, true, BIG_SEGMENTS);
    s.load();
    assertThrows(IllegalStateException.class, () -> s.submit(new Write(null, 0, List.of(entry(2, 1)))));
    assertEquals(1, s.submit(new Write(null, 0, entries(1, 3, 1))), "a rejected write takes no ticket");
    assertThrows(IllegalStateException.class, () -> s.submit(new Write(null, 0, List.of(entry(5, 1)))));
    assertEquals(2, s.submit(new Write(null, 3, entries(3, 4, 1))));
  }

  // ---- truncation ------------------------------------------------------------------------------------

  @Test
  void truncationDropsTheSuffixAcrossSegmentsAndDeletesLaterSegments() throws Exception {
    Path dir = tmp.resolve("a");
    writeLog(dir, TINY_SEGMENTS, entries(1, 30, 1), 4);
    Map<String, Long> before = segments(dir);
    assertEquals(10, before.size(), "30 entries, 3 per segment: " + before);

    // Truncate in the middle of segment 7-9 and append across two segment boundaries, ending at 12.
    FileStorage s = open(dir, true, TINY_SEGMENTS);
    assertEquals(entries(1, 30, 1), s.load().log());
    long t = s.submit(new Write(new HardState(2, "n3"), 8, entries(8, 12, 2)));
    awaitDurable(s, t);
    s.close();

    List<LogEntry> expected = new ArrayList<>(entries(1, 7, 1));
    expected.addAll(entries(8, 12, 2));
    FileStorage reopened = open(dir, true, TINY_SEGMENTS);
    Persisted back = reopened.load();
    assertEquals(new HardState(2, "n3"), back.hardState());
    assertEquals(expected, back.log());
    for (String name : segments(dir).keySet()) {
      assertTrue(WalFormat.parseSegmentName(name) <= 12, "segment after the log end was not deleted: " + name);
    }
    // The files are exactly those of writing the final log from scratch: no stale bytes, no stale segments.
    Path fresh = tmp.resolve("fresh");
    writeLog(fresh, TINY_SEGMENTS, expected, 5);
    assertEquals(segments(fresh), segments(dir));

    // A truncation with nothing appended cuts the segment file itself (4-6 keeps only 4).
    awaitDurable(reopened, reopened.submit(new Write(null, 5, List.of())));
    reopened.close();
    assertEquals(entries(1, 4, 1), open(dir, true, TINY_SEGMENTS).load().log());
    Path fresh2 = tmp.resolve("fresh2");
    writeLog(fresh2, TINY_SEGMENTS, entries(1, 4, 1), 4);
    assertEquals(segments(fresh2), segments(dir));
  }

  @Test
  void truncationAtASegmentStartAndInsideOneBatch() throws Exception {
    Path dir = tmp.resolve("a");
    writeLog(dir, TINY_SEGMENTS, entries(1, 12, 1), 12);
    assertTrue(segments(dir).containsKey(WalFormat.segmentName(7)));

    FileStorage s = open(dir, true, TINY_SEGMENTS);
    s.load();
    s.pauseWriter(); // everything below is applied as one batch
    s.submit(new Write(null, 7, entries(7, 9, 2))); // truncates exactly at the first entry of a segment
    s.submit(new Write(null, 0, entries(10, 16, 2)));
    s.submit(new Write(null, 14, entries(14, 15, 3))); // truncates entries still in the write buffer
    long t = s.submit(new Write(new HardState(3, null), 0, List.of()));
    s.resumeWriter();
    awaitDurable(s, t);
    s.close();

    List<LogEntry> expected = new ArrayList<>(entries(1, 6, 1));
    expected.addAll(entries(7, 13, 2));
    expected.addAll(entries(14, 15, 3));
    FileStorage reopened = open(dir, true, TINY_SEGMENTS);
    assertEquals(expected, reopened.load().log());
    // The reopened log keeps working: truncate and append again.
    long t2 = reopened.submit(new Write(null, 2, entries(2, 3, 4)));
    awaitDurable(reopened, t2);
    reopened.close();
    List<LogEntry> expected2 = new ArrayList<>(entries(1, 1, 1));
    expected2.addAll(entries(2, 3, 4));
    assertEquals(expected2, open(dir, true, TINY_SEGMENTS).load().log());
    assertEquals(List.of(WalFormat.segmentName(1)), new ArrayList<>(segments(dir).keySet()));
  }

  // ---- group commit ----------------------------------------------------------------------------------

  @Test
  void writesThatArriveTogetherShareOneFsync() throws Exception {
    FileStorage s = open(tmp, true, BIG_SEGMENTS);
    s.load();
    LinkedBlockingQueue<Long> reported = new LinkedBlockingQueue<>();
    s.onDurable(reported::add);
    long first = s.submit(new Write(new HardState(1, null), 0, entries(1, 1, 1))); // creates the segment
    assertEquals(first, reported.poll(10, TimeUnit.SECONDS));

    long before = s.fsyncCount();
    s.pauseWriter();
    int writes = 1000;
    long t = 0;
    for (int i = 2; i <= writes + 1; i++) t = s.submit(new Write(null, 0, List.of(entry(i, 1))));
    s.resumeWriter();
    awaitDurable(s, t);
    assertEquals(1, s.fsyncCount() - before, "one fsync for " + writes + " log writes that arrived together");
    assertEquals(t, reported.poll(10, TimeUnit.SECONDS), "the listener is called once per group");
    assertTrue(reported.isEmpty(), "the listener is called once per group: " + reported);

    // Hard states that arrive together are written once: temporary file fsync + directory fsync.
    before = s.fsyncCount();
    s.pauseWriter();
    for (int term = 2; term <= 100; term++) t = s.submit(new Write(new HardState(term, "n" + term), 0, List.of()));
    s.resumeWriter();
    awaitDurable(s, t);
    assertEquals(2, s.fsyncCount() - before);
    s.close();

    Persisted back = open(tmp, true, BIG_SEGMENTS).load();
    assertEquals(new HardState(100, "n100"), back.hardState());
    assertEquals(entries(1, writes + 1, 1), back.log());
  }

  @Test
  void closeMakesQueuedWritesDurable() {
    FileStorage s = open(tmp, true, BIG_SEGMENTS);
    s.load();
    s.pauseWriter();
    long t = s.submit(new Write(new HardState(5, "n1"), 0, entries(1, 50, 5)));
    s.close();
    assertEquals(t, s.durableTicket());
    assertThrows(IllegalStateException.class, () -> s.submit(new Write(null, 0, List.of())));
    Persisted back = open(tmp, true, BIG_SEGMENTS).load();
    assertEquals(new HardState(5, "n1"), back.hardState());
    assertEquals(entries(1, 50, 5), back.log());
  }

  // ---- recovery: torn tails --------------------------------------------------------------------------

  /** Writes 1..10 (four segments), appends {@code tail} to the last one, reopens; returns the loaded log. */
  private List<LogEntry> reopenWithTail(Path dir, byte[] tail) throws Exception {
    writeLog(dir, TINY_SEGMENTS, entries(1, 10, 1), 3);
    Path last = lastSegment(dir);
    assertEquals(WalFormat.segmentName(10), last.getFileName().toString());
    long clean = dataBytes(last);
    appendBytes(last, tail);
    FileStorage s = open(dir, true, TINY_SEGMENTS);
    List<LogEntry> log = s.load().log();
    assertEquals(clean, dataBytes(last), "the torn tail must be cut off the file");
    // Appending after the cut works and survives another reopen.
    awaitDurable(s, s.submit(new Write(null, 0, List.of(entry(11, 1)))));
    s.close();
    assertEquals(entries(1, 11, 1), open(dir, true, TINY_SEGMENTS).load().log());
    return log;
  }

  @Test
  void aFewGarbageBytesAtTheEndAreCut() throws Exception {
    assertEquals(entries(1, 10, 1), reopenWithTail(tmp, new byte[] {7, 1, 2, 3, 4}));
  }

  @Test
  void aWholeHeaderWithAShortPayloadIsCut() throws Exception {
    ByteBuffer torn = ByteBuffer.allocate(8 + 10);
    torn.putInt(100).putInt(0x12345678).put(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    assertEquals(entries(1, 10, 1), reopenWithTail(tmp, torn.array()));
  }

  /** What the preallocated room looks like, and what a crash leaves when the file grew but its data did not land. */
  @Test
  void aZeroFilledTailEndsTheLog() throws Exception {
    assertEquals(entries(1, 10, 1), reopenWithTail(tmp, new byte[64]));
  }

  /**
   * The last segment has room preallocated after its records, so an append does not change the file's size (and
   * its fdatasync need not write the inode); a closed segment ends at its last record.
   */
  @Test
  void appendsGoIntoPreallocatedRoomAndClosedSegmentsEndAtTheirRecords() throws Exception {
    FileStorage s = open(tmp, true, BIG_SEGMENTS);
    s.load();
    awaitDurable(s, s.submit(new Write(new HardState(1, null), 0, entries(1, 1, 1))));
    Path last = lastSegment(tmp);
    long size = Files.size(last);
    assertEquals(RECORD, dataBytes(last));
    assertTrue(size >= RECORD + LogPreallocation.STEP_BYTES, "room after the first record: " + size);
    for (long i = 2; i <= 100; i++) awaitDurable(s, s.submit(new Write(null, 0, List.of(entry(i, 1)))));
    assertEquals(size, Files.size(last), "appends within the room leave the size as it was");
    assertEquals(100 * RECORD, dataBytes(last));
    s.close();
    assertEquals(entries(1, 100, 1), open(tmp, true, BIG_SEGMENTS).load().log());

    Path small = tmp.resolve("small");
    writeLog(small, TINY_SEGMENTS, entries(1, 10, 1), 1);
    Map<String, Long> records = segments(small);
    try (Stream<Path> files = Files.list(logDir(small))) {
      for (Path p : files.sorted().toList()) {
        if (p.equals(lastSegment(small))) {
          assertTrue(Files.size(p) > records.get(p.getFileName().toString()), "the last segment has room");
        } else {
          assertEquals(records.get(p.getFileName().toString()), Files.size(p), "closed segment " + p.getFileName());
        }
      }
    }
  }

  /** A record cut short by a crash, with the room's zeros after it, is a torn write: cut, and the log goes on. */
  @Test
  void aRecordCutShortInThePreallocatedRoomIsCut() throws Exception {
    ByteBuffer record = ByteBuffer.allocate(RECORD);
    WalFormat.putEntry(record, entry(11, 1), new java.util.zip.CRC32C());
    byte[] prefix = Arrays.copyOf(record.array(), RECORD - 5); // the header, the fixed fields, part of the data
    assertEquals(entries(1, 10, 1), reopenWithTail(tmp, prefix));
  }

  @Test
  void aChecksumMismatchInTheFinalRecordIsCut() throws Exception {
    writeLog(tmp, TINY_SEGMENTS, entries(1, 11, 1), 11);
    Path last = lastSegment(tmp);
    assertEquals(2 * RECORD, dataBytes(last), "entries 10 and 11");
    flipByte(last, RECORD + 30); // in the data of entry 11, the final record
    FileStorage s = open(tmp, true, TINY_SEGMENTS);
    assertEquals(entries(1, 10, 1), s.load().log());
    assertEquals(RECORD, dataBytes(last));
  }

  @Test
  void aTornRecordOutsideTheLastSegmentRefusesToStart() throws Exception {
    writeLog(tmp, TINY_SEGMENTS, entries(1, 10, 1), 10);
    Path first = logDir(tmp).resolve(WalFormat.segmentName(1));
    appendBytes(first, new byte[] {1, 2, 3});
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, TINY_SEGMENTS));
    assertTrue(e.getMessage().contains(first.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("byte offset " + 3 * RECORD), e.getMessage());
    assertEquals(3 * RECORD + 3, Files.size(first), "a refused file is left as it was");
  }

  // ---- recovery: damage ------------------------------------------------------------------------------

  @Test
  void aFlippedByteInAnEarlierSegmentRefusesToStartNamingFileAndOffset() throws Exception {
    writeLog(tmp, TINY_SEGMENTS, entries(1, 10, 1), 10);
    Path second = logDir(tmp).resolve(WalFormat.segmentName(4));
    flipByte(second, RECORD + 20); // inside the payload of entry 5, the middle record of its segment
    long size = Files.size(second);
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, TINY_SEGMENTS));
    assertTrue(e.getMessage().contains(second.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("byte offset " + RECORD), e.getMessage());
    assertTrue(e.getMessage().contains("refuses to start"), e.getMessage());
    assertEquals(second.toAbsolutePath(), e.file().toAbsolutePath());
    assertEquals(RECORD, e.offset());
    assertEquals(size, Files.size(second), "nothing is cut from a damaged segment");
  }

  @Test
  void aFlippedByteBeforeTheFinalRecordOfTheLastSegmentRefusesToStart() throws Exception {
    writeLog(tmp, TINY_SEGMENTS, entries(1, 9, 1), 9);
    Path last = lastSegment(tmp); // entries 7, 8, 9
    flipByte(last, 20); // entry 7: not the final record
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, TINY_SEGMENTS));
    assertTrue(e.getMessage().contains(last.toString()) && e.getMessage().contains("byte offset 0"), e.getMessage());
    assertEquals(3 * RECORD, dataBytes(last));
  }

  @Test
  void aDamagedRecordLengthBeforeTheTailRefusesToStart() throws Exception {
    writeLog(tmp, TINY_SEGMENTS, entries(1, 9, 1), 9);
    Path last = lastSegment(tmp);
    // The length is outside the CRC: a larger one runs past the end of the file like a torn write would,
    // yet the records after it must not be cut off.
    flipByte(last, RECORD + 3); // the low byte of entry 8's length
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, TINY_SEGMENTS));
    assertTrue(e.getMessage().contains("byte offset " + RECORD), e.getMessage());
    flipByte(last, RECORD + 3);
    flipByte(last, RECORD); // the high byte
    assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, TINY_SEGMENTS));
    assertEquals(3 * RECORD, dataBytes(last));
    flipByte(last, RECORD);
    assertEquals(entries(1, 9, 1), open(tmp, true, TINY_SEGMENTS).load().log());
  }

  @Test
  void aMissingSegmentRefusesToStart() throws Exception {
    writeLog(tmp, TINY_SEGMENTS, entries(1, 10, 1), 10);
    Files.delete(logDir(tmp).resolve(WalFormat.segmentName(4)));
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, TINY_SEGMENTS));
    assertTrue(e.getMessage().contains(WalFormat.segmentName(7)), e.getMessage());

    Path other = tmp.resolve("other");
    writeLog(other, TINY_SEGMENTS, entries(1, 10, 1), 10);
    Files.delete(logDir(other).resolve(WalFormat.segmentName(1)));
    e = assertThrows(StorageCorruptedException.class, () -> FileStorage.open(other, true, TINY_SEGMENTS));
    assertTrue(e.getMessage().contains("instead of 1"), e.getMessage());
  }

  @Test
  void aSegmentWhoseEntriesDoNotMatchItsNameRefusesToStart() throws Exception {
    writeLog(tmp, TINY_SEGMENTS, entries(1, 6, 1), 6);
    Path second = logDir(tmp).resolve(WalFormat.segmentName(4));
    // Rewrite segment 4-6 as if it held 5-7: every record is valid, but the index jumps.
    Files.delete(second);
    Path scratch = tmp.resolve("scratch");
    writeLog(scratch, BIG_SEGMENTS, entries(1, 7, 1), 7);
    byte[] all = Files.readAllBytes(lastSegment(scratch));
    Files.write(second, java.util.Arrays.copyOfRange(all, 4 * RECORD, 7 * RECORD));
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, TINY_SEGMENTS));
    assertTrue(e.getMessage().contains(second.toString()) && e.getMessage().contains("expected entry 4"), e.getMessage());
  }

  @Test
  void aTermThatGoesBackwardsRefusesToStart() throws Exception {
    FileStorage s = open(tmp, true, BIG_SEGMENTS);
    s.load();
    List<LogEntry> log = new ArrayList<>(entries(1, 3, 2));
    log.add(entry(4, 1)); // storage does not check terms on the way in; the replica never does this
    awaitDurable(s, s.submit(new Write(new HardState(2, null), 0, log)));
    s.close();
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, BIG_SEGMENTS));
    assertTrue(e.getMessage().contains("byte offset " + 3 * RECORD) && e.getMessage().contains("term"), e.getMessage());
  }

  // ---- recovery: hard state --------------------------------------------------------------------------

  @Test
  void aMissingHardStateWithEntriesRefusesToStart() throws Exception {
    writeLog(tmp, BIG_SEGMENTS, entries(1, 3, 1), 3);
    Files.delete(tmp.resolve(FileStorage.HARD_STATE));
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, BIG_SEGMENTS));
    assertTrue(e.getMessage().contains(tmp.resolve(FileStorage.HARD_STATE).toString()), e.getMessage());
    assertTrue(e.getMessage().contains("missing"), e.getMessage());
  }

  @Test
  void aDamagedHardStateRefusesToStart() throws Exception {
    writeLog(tmp, BIG_SEGMENTS, entries(1, 3, 1), 3);
    Path hs = tmp.resolve(FileStorage.HARD_STATE);
    byte[] good = Files.readAllBytes(hs);

    flipByte(hs, 10); // in currentTerm
    StorageCorruptedException e =
        assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, BIG_SEGMENTS));
    assertTrue(e.getMessage().contains(hs.toString()), e.getMessage());

    Files.write(hs, java.util.Arrays.copyOf(good, 5)); // short
    assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, BIG_SEGMENTS));

    Files.write(hs, java.util.Arrays.copyOf(good, good.length - 1)); // cut by one byte
    assertThrows(StorageCorruptedException.class, () -> FileStorage.open(tmp, true, BIG_SEGMENTS));

    Files.write(hs, good);
    assertEquals(new HardState(1, null), open(tmp, true, BIG_SEGMENTS).load().hardState());
  }

  @Test
  void aMissingHardStateWithAnEmptyLogIsANewNode() {
    FileStorage s = open(tmp.resolve("new"), true, BIG_SEGMENTS);
    Persisted p = s.load();
    assertEquals(HardState.INITIAL, p.hardState());
    assertTrue(p.log().isEmpty());
    s.close();
    // Reopened before it ever wrote anything: still a new node.
    assertEquals(HardState.INITIAL, open(tmp.resolve("new"), true, BIG_SEGMENTS).load().hardState());
  }

  @Test
  void aLeftoverTemporaryHardStateIsIgnoredAndDeleted() throws Exception {
    FileStorage s = open(tmp, true, BIG_SEGMENTS);
    s.load();
    awaitDurable(s, s.submit(new Write(new HardState(7, "n2"), 0, entries(1, 2, 7))));
    s.close();
    Path leftover = tmp.resolve(FileStorage.HARD_STATE_TMP);
    Files.write(leftover, WalFormat.encodeHardState(new HardState(99, "n3")));

    Persisted back = open(tmp, true, BIG_SEGMENTS).load();
    assertEquals(new HardState(7, "n2"), back.hardState());
    assertEquals(entries(1, 2, 7), back.log());
    assertFalse(Files.exists(leftover));
  }

  // ---- fsync off, and one owner per directory --------------------------------------------------------

  @Test
  void withFsyncOffItStillRoundTripsAndNeverForces() throws Exception {
    FileStorage s = open(tmp, false, TINY_SEGMENTS);
    s.load();
    s.submit(new Write(new HardState(1, "n1"), 0, entries(1, 10, 1)));
    long t = s.submit(new Write(new HardState(2, "n2"), 5, entries(5, 8, 2)));
    awaitDurable(s, t);
    s.close();
    assertEquals(0, s.fsyncCount());

    List<LogEntry> expected = new ArrayList<>(entries(1, 4, 1));
    expected.addAll(entries(5, 8, 2));
    Persisted back = open(tmp, false, TINY_SEGMENTS).load();
    assertEquals(new HardState(2, "n2"), back.hardState());
    assertEquals(expected, back.log());
  }

  @Test
  void aDirectoryHasOneOwnerAtATime() {
    FileStorage s = open(tmp, true, BIG_SEGMENTS);
    assertThrows(UncheckedIOException.class, () -> FileStorage.open(tmp, true, BIG_SEGMENTS));
    s.close();
    open(tmp, true, BIG_SEGMENTS).close();
  }
}
