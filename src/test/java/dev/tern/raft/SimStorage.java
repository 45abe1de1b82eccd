package dev.tern.raft;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * Storage for the simulation that behaves like a disk with a write cache: a write is durable only once the
 * simulation delivers its (group) fsync, and a crash loses every write not yet durable. This is what makes
 * the simulation catch a reply sent before the state it promises was persisted.
 *
 * <p>Snapshot operations complete after a simulated disk delay; a crash loses those under way, and a snapshot
 * being received. A saved or fully received snapshot is durable when its callback runs.
 */
final class SimStorage implements RaftStorage {
  /** The simulation's disk: fsyncs later, then calls {@link #sync}; runs snapshot I/O later. */
  interface Disk {
    void scheduleFsync(SimStorage storage, long upToTicket);

    /** Runs {@code io} after a disk delay, unless the node crashes first. */
    void later(Runnable io);
  }

  private final Disk disk;
  private HardState durableHardState = HardState.INITIAL;
  /** The durable entries after {@link #durableBase}. */
  private final List<LogEntry> durableLog = new ArrayList<>();
  private long durableBase;
  private StoredSnapshot durableSnapshot;
  private final ArrayDeque<Pending> pending = new ArrayDeque<>();
  private long nextTicket = 1;
  private long durableTicket;
  private boolean fsyncScheduled;
  private LongConsumer listener = t -> {};
  private SnapshotMeta receiving;
  private ByteArrayOutputStream received;
  int snapshotsSaved;
  int snapshotsInstalled;

  private record Pending(long ticket, Write write) {}

  SimStorage(Disk disk) {
    this.disk = disk;
  }

  /** Figure 13 on recovery: the log goes on after the snapshot only if it holds the snapshot's last entry. */
  @Override
  public Persisted load() {
    if (durableSnapshot == null) return new Persisted(durableHardState, List.copyOf(durableLog));
    SnapshotMeta meta = durableSnapshot.meta();
    long s = meta.lastIncludedIndex();
    List<LogEntry> after = new ArrayList<>();
    // A log starting right after the snapshot was compacted through it, or reset to it: it goes on from there.
    if (durableBase == s || termAt(s) == meta.lastIncludedTerm()) {
      for (LogEntry e : durableLog) if (e.index() > s) after.add(e);
    } else {
      durableLog.clear(); // stale: the snapshot replaced it (what FileStorage deletes on recovery)
      durableBase = s;
    }
    return new Persisted(durableHardState, durableSnapshot, after);
  }

  private long termAt(long index) {
    if (index <= durableBase || index > durableBase + durableLog.size()) return -1;
    return durableLog.get((int) (index - durableBase - 1)).term();
  }

  @Override
  public long submit(Write write) {
    long ticket = nextTicket++;
    pending.add(new Pending(ticket, write));
    // Group commit: one fsync covers every write submitted before it runs.
    if (!fsyncScheduled) {
      fsyncScheduled = true;
      disk.scheduleFsync(this, ticket);
    }
    return ticket;
  }

  /** The fsync completes: everything submitted so far becomes durable. */
  void sync() {
    fsyncScheduled = false;
    while (!pending.isEmpty()) {
      Write w = pending.poll().write();
      if (w.truncateFrom() > 0) {
        int keep = (int) Math.max(0, Math.min(durableLog.size(), w.truncateFrom() - 1 - durableBase));
        durableLog.subList(keep, durableLog.size()).clear();
      }
      if (w.compactThrough() > durableBase) {
        if (durableSnapshot == null || durableSnapshot.meta().lastIncludedIndex() < w.compactThrough()) {
          throw new AssertionError("compacting through " + w.compactThrough() + " beyond the durable snapshot");
        }
        int drop = (int) Math.min(durableLog.size(), w.compactThrough() - durableBase);
        durableLog.subList(0, drop).clear();
        durableBase = durableLog.isEmpty() ? w.compactThrough() : durableBase + drop;
      }
      for (LogEntry e : w.entries()) {
        if (e.index() != durableBase + durableLog.size() + 1L) throw new AssertionError("non-contiguous durable append " + e);
        durableLog.add(e);
      }
      if (w.hardState() != null) durableHardState = w.hardState();
    }
    durableTicket = nextTicket - 1;
    listener.accept(durableTicket);
  }

  /** The process dies: writes not yet durable are gone, and so is a snapshot being received. */
  void crash() {
    pending.clear();
    fsyncScheduled = false;
    nextTicket = durableTicket + 1;
    listener = t -> {};
    receiving = null;
    received = null;
  }

  @Override
  public long durableTicket() {
    return durableTicket;
  }

  @Override
  public void onDurable(LongConsumer listener) {
    this.listener = listener;
  }

  @Override
  public void saveSnapshot(SnapshotMeta meta, StateMachine.SnapshotData data, Consumer<Throwable> done) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      data.writeTo(out);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    disk.later(() -> {
      keepIfNewer(new StoredSnapshot(meta, out.toByteArray()));
      snapshotsSaved++;
      done.accept(null);
    });
  }

  private void keepIfNewer(StoredSnapshot s) {
    if (durableSnapshot == null || durableSnapshot.meta().lastIncludedIndex() < s.meta().lastIncludedIndex()) {
      durableSnapshot = s;
    }
  }

  @Override
  public void readSnapshotChunk(SnapshotMeta meta, long offset, int maxBytes, Consumer<Chunk> done) {
    disk.later(() -> {
      if (durableSnapshot == null || !durableSnapshot.meta().equals(meta)) {
        done.accept(new Chunk(null, 0));
        return;
      }
      byte[] all = durableSnapshot.data();
      int from = (int) Math.min(offset, all.length);
      done.accept(new Chunk(Arrays.copyOfRange(all, from, (int) Math.min(all.length, (long) from + maxBytes)), all.length));
    });
  }

  @Override
  public void writeSnapshotChunk(SnapshotMeta meta, long offset, byte[] data, boolean last, Consumer<ChunkWritten> done) {
    disk.later(() -> {
      if (offset == 0 && !meta.equals(receiving)) {
        receiving = meta;
        received = new ByteArrayOutputStream();
      }
      if (!meta.equals(receiving) || offset != received.size()) {
        done.accept(new ChunkWritten(meta.equals(receiving) ? received.size() : 0, null));
        return;
      }
      received.writeBytes(data);
      if (!last) {
        done.accept(new ChunkWritten(received.size(), null));
        return;
      }
      StoredSnapshot completed = new StoredSnapshot(meta, received.toByteArray());
      keepIfNewer(completed);
      snapshotsInstalled++;
      receiving = null;
      received = null;
      done.accept(new ChunkWritten(completed.data().length, completed));
    });
  }

  /** Whether some write is not yet durable. */
  boolean hasUnsynced() {
    return !pending.isEmpty();
  }

  HardState durableHardState() {
    return durableHardState;
  }
}
