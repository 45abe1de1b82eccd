package dev.tern.kv;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * The deduplication window in RocksDB ({@link KvStateMachine#DEDUPLICATION_WINDOW}): the results remembered by one
 * commit's entries go into one record, and a record is deleted once its last result has left the window.
 *
 * <pre>
 * 'w' [long first seq] -> [int count] then per result [command id][result]: seqs first, first + 1, ...
 * 'd' [long slot]      -> [long seq][command id][result]: one result per record, in a ring of slots; written by
 *                         earlier builds, read as it is and deleted result by result as the window moves on
 * </pre>
 *
 * <p>Why one record per commit: a record per result was a second memtable insert for every write (the data key is the
 * first) and a record's bookkeeping (its key, RocksDB's sequence number and index entry) for every result; under
 * writes the window's records were most of what flushes and compactions rewrote, since it holds 100,000 results.
 *
 * <p>A record's earlier results may already have left the window while its later ones have not; {@link #read} keeps
 * only the newest {@link #SIZE}, which is exactly what the state machine's window holds (it remembers results with
 * consecutive seqs and forgets the oldest past its size), so every replica reads back the same window whatever its
 * commits were.
 */
final class RocksWindow {
  static final byte RECORD = 'w';
  static final byte LEGACY_SLOT = 'd';
  static final int SIZE = KvStateMachine.DEDUPLICATION_WINDOW;
  /** Results per record at most: a long replay (thousands of entries in one commit) still writes records of bounded size. */
  static final int MAX_RECORD_RESULTS = 1024;

  /** The records in the store (committed): first seq to last seq, oldest first. */
  private final TreeMap<Long, Long> records = new TreeMap<>();
  /** Records put into the write batch, not yet committed. */
  private final TreeMap<Long, Long> uncommitted = new TreeMap<>();
  /** Results remembered since the last record was put: the next record. */
  private final List<KvStore.Remembered> staged = new ArrayList<>();
  /** The newest seq held in a legacy slot record, or -1: forgetting a seq up to it deletes its slot. */
  private long legacyThrough = -1;

  /** Remembers {@code r}; its record is put into {@code batch} by {@link #stage} (at the latest at the commit). */
  void remember(KvStore.Remembered r, WriteBatch batch) throws RocksDBException {
    if (!staged.isEmpty() && r.seq() != staged.get(staged.size() - 1).seq() + 1) stage(batch); // one record: consecutive seqs
    staged.add(r);
    if (staged.size() >= MAX_RECORD_RESULTS) stage(batch);
  }

  /** Forgets every result up to {@code seq} (the window forgets oldest first): records all of whose results are gone. */
  void forget(long seq, WriteBatch batch) throws RocksDBException {
    while (!staged.isEmpty() && staged.get(0).seq() <= seq) staged.remove(0);
    dropThrough(records, seq, batch);
    dropThrough(uncommitted, seq, batch);
    if (seq <= legacyThrough) batch.delete(legacySlotKey(seq));
  }

  private static void dropThrough(TreeMap<Long, Long> map, long seq, WriteBatch batch) throws RocksDBException {
    while (!map.isEmpty() && map.firstEntry().getValue() <= seq) batch.delete(recordKey(map.pollFirstEntry().getKey()));
  }

  /** Puts the results remembered since the last record into {@code batch} as one record. */
  void stage(WriteBatch batch) throws RocksDBException {
    if (staged.isEmpty()) return;
    long first = staged.get(0).seq();
    batch.put(recordKey(first), encode(staged));
    uncommitted.put(first, staged.get(staged.size() - 1).seq());
    staged.clear();
  }

  boolean hasStaged() {
    return !staged.isEmpty();
  }

  /** The batch holding the staged records was written. */
  void committed() {
    records.putAll(uncommitted);
    uncommitted.clear();
  }

  /** The batch was dropped unwritten: what it held is not in the store. */
  void aborted() {
    uncommitted.clear();
    staged.clear();
  }

  /**
   * The window stored in {@code db}, oldest first: the newest {@link #SIZE} results of its records (legacy slots
   * included). Indexes the records, for {@link #forget}, replacing what this object knew.
   */
  List<KvStore.Remembered> read(RocksDB db, ReadOptions read) {
    records.clear();
    uncommitted.clear();
    staged.clear();
    legacyThrough = -1;
    List<KvStore.Remembered> out = new ArrayList<>();
    try (RocksIterator it = db.newIterator(read)) {
      for (it.seek(new byte[] {RECORD}); it.isValid() && it.key()[0] == RECORD; it.next()) {
        long first = ByteBuffer.wrap(it.key(), 1, 8).getLong();
        List<KvStore.Remembered> results = decode(first, it.value());
        records.put(first, first + results.size() - 1);
        out.addAll(results);
      }
      for (it.seek(new byte[] {LEGACY_SLOT}); it.isValid() && it.key()[0] == LEGACY_SLOT; it.next()) {
        KvStore.Remembered r = RocksRecords.decodeRemembered(it.value());
        legacyThrough = Math.max(legacyThrough, r.seq());
        out.add(r);
      }
    }
    out.sort(Comparator.comparingLong(KvStore.Remembered::seq));
    return out.size() > SIZE ? new ArrayList<>(out.subList(out.size() - SIZE, out.size())) : out;
  }

  /** Records in the store (for tests). */
  Map<Long, Long> records() {
    return java.util.Collections.unmodifiableMap(records);
  }

  static byte[] recordKey(long firstSeq) {
    return ByteBuffer.allocate(9).put(RECORD).putLong(firstSeq).array();
  }

  static byte[] legacySlotKey(long seq) {
    return ByteBuffer.allocate(9).put(LEGACY_SLOT).putLong(Math.floorMod(seq, SIZE)).array();
  }

  static byte[] encode(List<KvStore.Remembered> results) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + 48 * results.size());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(results.size());
      for (KvStore.Remembered r : results) {
        KvSnapshotCodec.string(out, r.id());
        KvSnapshotCodec.result(out, r.result());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static List<KvStore.Remembered> decode(long firstSeq, byte[] stored) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(stored))) {
      int n = in.readInt();
      if (n < 1 || n > MAX_RECORD_RESULTS) throw new IOException("a record of " + n + " results");
      List<KvStore.Remembered> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) out.add(new KvStore.Remembered(firstSeq + i, KvSnapshotCodec.string(in), KvSnapshotCodec.result(in)));
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("a damaged window record in the key-value store", e);
    }
  }
}
