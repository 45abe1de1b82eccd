package dev.tern.raft;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Where a replica keeps its persistent state (Figure 2: currentTerm, votedFor, log[]) and its latest
 * snapshot (section 7, Figure 13).
 *
 * <p>Writes are submitted, not awaited, so a durable implementation can fsync off the actor's thread and
 * group the writes that arrive together into one fsync. Each write gets a ticket; tickets grow by one and
 * become durable in order. The replica holds back every reply that depends on a write until its ticket is
 * durable ("persist before responding", Figure 2), and a leader counts only its durable entries toward a
 * majority.
 *
 * <p>Snapshot operations run off the caller's thread too and report through the callback they are given,
 * on a storage thread: the replica turns each report into a message to itself.
 */
public interface RaftStorage {

  /** The latest snapshot as stored: what it covers, and where the state machine's bytes are read from. */
  record StoredSnapshot(SnapshotMeta meta, SnapshotSource data) {
    /** A snapshot whose data is in memory. */
    public StoredSnapshot(SnapshotMeta meta, byte[] data) {
      this(meta, SnapshotSource.of(data));
    }
  }

  /**
   * What a replica finds when it starts: the durable hard state, the latest snapshot (null if none) and the
   * log entries after the snapshot's last included index. Storage applies Figure 13's rule on recovery: a log
   * that does not hold the snapshot's last entry with the snapshot's term is discarded.
   */
  record Persisted(HardState hardState, StoredSnapshot snapshot, List<LogEntry> log) {
    public Persisted(HardState hardState, List<LogEntry> log) {
      this(hardState, null, log);
    }
  }

  /**
   * One atomic change. Applied in order: drop every entry from {@code truncateFrom} on (0 = keep all; at or
   * below the first stored entry = drop the whole log), then drop the entries up to {@code compactThrough}
   * that a durable snapshot covers (0 = none; whole segments at a time, so some may stay; at or past the last
   * entry = all of them, and the next entry is {@code compactThrough + 1}), then append {@code entries},
   * then record {@code hardState} (null = unchanged).
   */
  record Write(HardState hardState, long truncateFrom, List<LogEntry> entries, long compactThrough) {
    public Write {
      entries = List.copyOf(entries);
      if (compactThrough < 0) throw new IllegalArgumentException("compactThrough must be >= 0, got " + compactThrough);
    }

    public Write(HardState hardState, long truncateFrom, List<LogEntry> entries) {
      this(hardState, truncateFrom, entries, 0);
    }
  }

  /** A piece of a stored snapshot's data; {@code data} is null if that snapshot is no longer stored. */
  record Chunk(byte[] data, long totalBytes) {}

  /**
   * Where a snapshot being received stands: how many of its data bytes are stored (where the sender should
   * go on from; 0 = start over), and the whole snapshot once it is complete and durable (else null).
   */
  record ChunkWritten(long nextOffset, StoredSnapshot completed) {}

  Persisted load();

  /** Submits a write; returns its ticket. */
  long submit(Write write);

  /** The highest ticket whose write is durable. */
  long durableTicket();

  /**
   * Registers who to tell when {@link #durableTicket()} advances later than {@link #submit} returned. May be
   * called from another thread; the replica turns it into a {@link RaftMessage.StorageSynced} message.
   */
  void onDurable(LongConsumer listener);

  /**
   * Writes a snapshot of this node's own state; {@code done} gets null once it is durable (and older
   * snapshots are gone), or the error that stopped it.
   */
  void saveSnapshot(SnapshotMeta meta, StateMachine.SnapshotData data, Consumer<Throwable> done);

  /** Reads up to {@code maxBytes} of the stored snapshot {@code meta}'s data from {@code offset}. */
  void readSnapshotChunk(SnapshotMeta meta, long offset, int maxBytes, Consumer<Chunk> done);

  /**
   * Stores a piece of a snapshot sent by the leader (InstallSnapshot, Figure 13). A piece of another snapshot
   * than the one being received, at offset 0, starts over with it; a piece at any other offset than the
   * bytes stored so far is refused (the answer says where to go on). After the {@code last} piece the
   * snapshot is checked and made durable, and becomes the latest; only then does the answer carry it.
   */
  void writeSnapshotChunk(SnapshotMeta meta, long offset, byte[] data, boolean last, Consumer<ChunkWritten> done);
}
