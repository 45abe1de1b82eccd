package dev.tern.storage;

import dev.tern.raft.HardState;
import dev.tern.raft.LogEntry;
import dev.tern.raft.RaftStorage;
import dev.tern.raft.SnapshotMeta;
import dev.tern.raft.StateMachine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Storage kept in memory: every write is durable the moment it is submitted, and every snapshot operation
 * completes (and calls back) before it returns. It outlives the replica actor that uses it, so tests can
 * "crash" a replica and restart it from what it had persisted. For tests and experiments only: nothing
 * survives the process.
 */
public final class InMemoryStorage implements RaftStorage {
  private HardState hardState = HardState.INITIAL;
  /** The entries after {@link #base}. */
  private final List<LogEntry> log = new ArrayList<>();
  /** The last entry dropped from the front of the log (compacted), or 0. */
  private long base;
  private long ticket;
  private StoredSnapshot snapshot;
  /** A snapshot being received, and its bytes so far. */
  private SnapshotMeta receiving;
  private ByteArrayOutputStream received;

  @Override
  public synchronized Persisted load() {
    // Figure 13 on recovery: the log goes on after the snapshot only if it holds the snapshot's last entry.
    if (snapshot == null) return new Persisted(hardState, List.copyOf(log));
    long s = snapshot.meta().lastIncludedIndex();
    List<LogEntry> after = new ArrayList<>();
    // A log starting right after the snapshot was compacted through it, or reset to it: it goes on from there.
    if (base == s || termAt(s) == snapshot.meta().lastIncludedTerm()) {
      for (LogEntry e : log) if (e.index() > s) after.add(e);
    } else {
      log.clear(); // stale: the snapshot replaced it
      base = s;
    }
    return new Persisted(hardState, snapshot, after);
  }

  private long termAt(long index) {
    if (index <= base || index > base + log.size()) return -1;
    return log.get((int) (index - base - 1)).term();
  }

  @Override
  public synchronized long submit(Write write) {
    if (write.truncateFrom() > 0) {
      int keep = (int) Math.max(0, Math.min(log.size(), write.truncateFrom() - 1 - base));
      log.subList(keep, log.size()).clear();
    }
    if (write.compactThrough() > base) {
      long through = write.compactThrough();
      int drop = (int) Math.min(log.size(), through - base);
      log.subList(0, drop).clear();
      base = log.isEmpty() ? Math.max(through, base + drop) : base + drop;
    }
    for (LogEntry e : write.entries()) {
      if (e.index() != base + log.size() + 1L) {
        throw new IllegalStateException("non-contiguous append: " + e + " after index " + (base + log.size()));
      }
      log.add(e);
    }
    if (write.hardState() != null) hardState = write.hardState();
    return ++ticket;
  }

  @Override
  public synchronized long durableTicket() {
    return ticket;
  }

  @Override
  public void onDurable(LongConsumer listener) {
    // Every write is durable on submit; there is never anything to report later.
  }

  @Override
  public void saveSnapshot(SnapshotMeta meta, StateMachine.SnapshotData data, Consumer<Throwable> done) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      data.writeTo(out);
    } catch (IOException | RuntimeException e) {
      done.accept(e);
      return;
    }
    synchronized (this) {
      if (snapshot == null || snapshot.meta().lastIncludedIndex() <= meta.lastIncludedIndex()) {
        snapshot = new StoredSnapshot(meta, out.toByteArray());
      }
    }
    done.accept(null);
  }

  @Override
  public void readSnapshotChunk(SnapshotMeta meta, long offset, int maxBytes, Consumer<Chunk> done) {
    Chunk chunk;
    synchronized (this) {
      if (snapshot == null || !snapshot.meta().equals(meta)) {
        chunk = new Chunk(null, 0);
      } else {
        byte[] all = snapshot.data().readAll();
        int from = (int) Math.min(offset, all.length);
        chunk = new Chunk(Arrays.copyOfRange(all, from, (int) Math.min(all.length, (long) from + maxBytes)), all.length);
      }
    }
    done.accept(chunk);
  }

  @Override
  public void writeSnapshotChunk(SnapshotMeta meta, long offset, byte[] data, boolean last, Consumer<ChunkWritten> done) {
    ChunkWritten result;
    synchronized (this) {
      if (offset == 0 && !meta.equals(receiving)) {
        receiving = meta;
        received = new ByteArrayOutputStream();
      }
      if (!meta.equals(receiving) || offset != received.size()) {
        result = new ChunkWritten(meta.equals(receiving) ? received.size() : 0, null);
      } else {
        received.writeBytes(data);
        StoredSnapshot completed = null;
        if (last) {
          completed = new StoredSnapshot(meta, received.toByteArray());
          if (snapshot == null || snapshot.meta().lastIncludedIndex() < meta.lastIncludedIndex()) snapshot = completed;
          receiving = null;
          received = null;
        }
        result = new ChunkWritten(offset + data.length, completed);
      }
    }
    done.accept(result);
  }

  public synchronized HardState hardState() {
    return hardState;
  }

  /** The entries still stored (after any compaction). */
  public synchronized List<LogEntry> entries() {
    return List.copyOf(log);
  }

  public synchronized StoredSnapshot snapshot() {
    return snapshot;
  }
}
