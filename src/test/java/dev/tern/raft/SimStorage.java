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
 * simulation delivers its (group) fsync, and a crash may lose every write not yet durable. This is what makes
 * the simulation catch a reply sent before the state it promises was persisted.
 *
 * <p>Disk faults, as {@code FileStorage} can meet them:
 * <ul>
 *   <li><b>Lost unsynced writes.</b> A crash loses what was not fsynced ({@link #crash}).
 *   <li><b>Torn writes.</b> Or the crash came in the middle of writing the batch out: a prefix of the unsynced
 *       operations reached the disk, the batch's newest hard state first ({@code FileStorage.writeBatch} writes
 *       it before the log), and the last entry may be half written. Recovery ({@link #load}) discards that torn
 *       record, as {@code WalFormat} does with a record whose length or checksum does not hold.
 *   <li><b>A failing fsync</b> ({@link #failNextFsync}). As in {@code FileStorage}: nothing of that batch or
 *       after becomes durable, {@link #submit} throws, and the failure listener ({@code FileStorage.onFailure})
 *       hears of it, on which a node stops ({@code TernNode}).
 * </ul>
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
  /** Told once when an fsync fails (what {@code FileStorage.onFailure} registers). */
  private Runnable failureListener = () -> {};
  private boolean failNextFsync;
  private boolean failed;
  /** A half-written last record left by a torn crash: recovery must cut it off. */
  private LogEntry tornRecord;
  private SnapshotMeta receiving;
  private ByteArrayOutputStream received;
  int snapshotsSaved;
  int snapshotsInstalled;
  int tornCrashes;
  int tornRecordsDiscarded;
  int fsyncFailures;

  private record Pending(long ticket, Write write) {}

  SimStorage(Disk disk) {
    this.disk = disk;
  }

  /** Figure 13 on recovery: the log goes on after the snapshot only if it holds the snapshot's last entry. */
  @Override
  public Persisted load() {
    discardTornRecord();
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

  /**
   * Recovery cuts a torn last record off the log (FileStorage's scan of the last segment): its length and
   * checksum do not hold, so it is no entry at all, and must never reach the replica half written.
   */
  private void discardTornRecord() {
    if (tornRecord == null) return;
    tornRecord = null;
    tornRecordsDiscarded++;
  }

  private long termAt(long index) {
    if (index <= durableBase || index > durableBase + durableLog.size()) return -1;
    return durableLog.get((int) (index - durableBase - 1)).term();
  }

  @Override
  public long submit(Write write) {
    // FileStorage refuses every write once its writer failed: nothing could become durable any more.
    if (failed) throw new IllegalStateException("storage failed: a previous fsync failed");
    long ticket = nextTicket++;
    pending.add(new Pending(ticket, write));
    // Group commit: one fsync covers every write submitted before it runs.
    if (!fsyncScheduled) {
      fsyncScheduled = true;
      disk.scheduleFsync(this, ticket);
    }
    return ticket;
  }

  /**
   * The fsync completes: everything submitted so far becomes durable. Or it fails, if so armed: then nothing
   * more ever becomes durable, and the failure listener is told.
   */
  void sync() {
    fsyncScheduled = false;
    if (failed) return;
    if (failNextFsync) {
      failNextFsync = false;
      failed = true;
      fsyncFailures++;
      failureListener.run();
      return;
    }
    while (!pending.isEmpty()) {
      Write w = pending.poll().write();
      applyDurably(w, Integer.MAX_VALUE);
      if (w.hardState() != null) durableHardState = w.hardState();
    }
    durableTicket = nextTicket - 1;
    listener.accept(durableTicket);
  }

  /**
   * Applies a write's log operations to the disk: its truncation and compaction, then its entries, but only
   * the first {@code budget} of them (the rest did not reach the disk). Returns how many it applied; if the
   * budget ran out before an entry, {@link #cutBefore} is that entry.
   */
  private int applyDurably(Write w, int budget) {
    int ops = 0;
    if (w.truncateFrom() > 0) {
      if (ops++ >= budget) return budget;
      int keep = (int) Math.max(0, Math.min(durableLog.size(), w.truncateFrom() - 1 - durableBase));
      durableLog.subList(keep, durableLog.size()).clear();
    }
    if (w.compactThrough() > 0 && ops++ >= budget) return budget;
    if (w.compactThrough() > durableBase) {
      if (durableSnapshot == null || durableSnapshot.meta().lastIncludedIndex() < w.compactThrough()) {
        throw new AssertionError("compacting through " + w.compactThrough() + " beyond the durable snapshot");
      }
      int drop = (int) Math.min(durableLog.size(), w.compactThrough() - durableBase);
      durableLog.subList(0, drop).clear();
      durableBase = durableLog.isEmpty() ? w.compactThrough() : durableBase + drop;
    }
    for (LogEntry e : w.entries()) {
      if (ops++ >= budget) {
        cutBefore = e;
        return budget;
      }
      if (e.index() != durableBase + durableLog.size() + 1L) throw new AssertionError("non-contiguous durable append " + e);
      durableLog.add(e);
    }
    return ops;
  }

  /** Set by {@link #applyDurably}: the entry a torn write stopped before. */
  private LogEntry cutBefore;

  /** The next fsync fails (an I/O error: a full or failing disk). */
  void failNextFsync() {
    failNextFsync = true;
  }

  /** The faults are over: an fsync armed to fail will not. */
  void disarmFsyncFailure() {
    failNextFsync = false;
  }

  /** Whether an fsync failed since this process started: it must then acknowledge nothing more. */
  boolean failed() {
    return failed;
  }

  /** Who to tell when an fsync fails ({@code FileStorage.onFailure}). */
  void onFailure(Runnable listener) {
    this.failureListener = listener;
  }

  /** The process dies and every unsynced write is lost, and so is a snapshot being received. */
  void crash() {
    crash(null);
  }

  /**
   * The process dies. With {@code random} null, or one time in two, every unsynced write is lost. Otherwise
   * the crash tore the batch being written: its newest hard state reached the disk (FileStorage writes it
   * first), then a random prefix of its log operations, and perhaps half of the next entry, which recovery
   * will cut off. Either way no ticket of the batch was reported durable, so nothing acknowledged depends on
   * it. A snapshot being received is lost.
   */
  void crash(java.util.Random random) {
    if (random != null && !pending.isEmpty() && random.nextBoolean()) tear(random);
    failed = false; // a restart opens the disk afresh, with what it holds
    failNextFsync = false;
    pending.clear();
    fsyncScheduled = false;
    nextTicket = durableTicket + 1;
    listener = t -> {};
    receiving = null;
    received = null;
  }

  /**
   * The disk is lost (issue 17): after a {@link #crash}, the node comes back with nothing, as from an empty data
   * directory: no term, no vote, no log, no snapshot.
   */
  void wipe() {
    durableHardState = HardState.INITIAL;
    durableLog.clear();
    durableBase = 0;
    durableSnapshot = null;
    tornRecord = null;
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
      byte[] all = durableSnapshot.data().readAll();
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
      done.accept(new ChunkWritten(completed.data().size(), completed));
    });
  }

  private void tear(java.util.Random random) {
    tornCrashes++;
    int ops = 0;
    HardState newest = null;
    for (Pending p : pending) {
      ops += opsOf(p.write());
      if (p.write().hardState() != null) newest = p.write().hardState();
    }
    int budget = random.nextInt(ops + 1);
    if (newest != null && (budget > 0 || random.nextBoolean())) durableHardState = newest;
    cutBefore = null;
    for (Pending p : pending) {
      Write w = p.write();
      if (budget < opsOf(w)) { // the crash came inside this write
        if (budget == 0 && w.truncateFrom() == 0 && w.compactThrough() == 0 && !w.entries().isEmpty()) {
          cutBefore = w.entries().get(0);
        } else {
          applyDurably(w, budget);
        }
        break;
      }
      applyDurably(w, budget);
      budget -= opsOf(w);
    }
    // The entry the write stopped before may be half on the disk (one with a payload: a torn record is
    // shorter than the whole one, which recovery must tell from it).
    if (cutBefore != null && cutBefore.data().length > 0 && random.nextBoolean()) {
      byte[] data = cutBefore.data();
      tornRecord = new LogEntry(cutBefore.index(), cutBefore.term(), cutBefore.kind(), Arrays.copyOf(data, data.length / 2));
    }
    cutBefore = null;
  }

  /** A write's log operations: its truncation, its compaction and each entry. */
  private static int opsOf(Write w) {
    return (w.truncateFrom() > 0 ? 1 : 0) + (w.compactThrough() > 0 ? 1 : 0) + w.entries().size();
  }

  /** Whether some write is not yet durable. */
  boolean hasUnsynced() {
    return !pending.isEmpty();
  }

  HardState durableHardState() {
    return durableHardState;
  }
}
