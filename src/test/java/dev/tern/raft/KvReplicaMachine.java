package dev.tern.raft;

import dev.tern.http.AppliedNotifier;
import dev.tern.kv.KvCodec;
import dev.tern.kv.KvCommand;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A replica's state machine in {@link KvSimulation}: the simulation's checking state machine (Figure 3's State
 * Machine Safety) and the node's real {@code KvStateMachine} behind its {@link AppliedNotifier}, which tells the
 * front. A snapshot holds both. It counts, and checks, the commands that reach the log twice (the front proposes a
 * write again when it heard nothing in time, and both copies may commit): the second copy must change nothing.
 */
final class KvReplicaMachine implements StateMachine {
  /** Off to see what the linearizability check alone catches (deliberate-breakage experiments). */
  static final boolean CHECK_DUPLICATES = !"false".equals(System.getProperty("tern.kvsim.duplicate-check"));

  /** What one run saw, over all replicas (all apply the same log). */
  static final class Stats {
    /** Where each command id was first applied, by any replica. */
    final Map<String, Long> firstIndex = new HashMap<>();
    /** Indexes whose command had already been applied at a lower index. */
    final Set<Long> duplicates = new HashSet<>();
    /** ... with a snapshot taken (by any replica) between the two copies. */
    final Set<Long> duplicatesAcrossSnapshot = new HashSet<>();
    /** ... applied by a replica that got the first copy's result only through a snapshot it restored. */
    final Set<Long> duplicatesAfterRestore = new HashSet<>();
    final TreeSet<Long> snapshotIndexes = new TreeSet<>();
    long restores;
  }

  private final String id;
  private final StateMachine checking;
  private final AppliedNotifier kv;
  private final Stats stats;
  /** The index of the last snapshot this replica restored (0: none). */
  private long restoredAt;

  KvReplicaMachine(String id, StateMachine checking, AppliedNotifier kv, Stats stats) {
    this.id = id;
    this.checking = checking;
    this.kv = kv;
    this.stats = stats;
  }

  @Override
  public void apply(LogEntry entry) {
    checking.apply(entry);
    KvCommand command = entry.kind() == LogEntry.Kind.COMMAND ? decode(entry.data()) : null;
    Long first = command == null ? null : stats.firstIndex.putIfAbsent(command.id(), entry.index());
    if (first == null || first == entry.index()) {
      kv.apply(entry);
      return;
    }
    long index = entry.index();
    stats.duplicates.add(index);
    Long snapshot = stats.snapshotIndexes.ceiling(first);
    if (snapshot != null && snapshot < index) stats.duplicatesAcrossSnapshot.add(index);
    if (restoredAt >= first && restoredAt < index) stats.duplicatesAfterRestore.add(index);
    var before = kv.kv().contents();
    kv.apply(entry);
    if (CHECK_DUPLICATES && !kv.kv().contents().equals(before)) {
      throw new InvariantChecker.Violation("Deduplication", id + " applied command " + command.id() + " again at "
          + index + " (first at " + first + (restoredAt >= first ? ", known here through the snapshot at " + restoredAt : "")
          + "): the state changed");
    }
  }

  private static KvCommand decode(byte[] data) {
    try {
      return KvCodec.decode(data);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @Override
  public long lastApplied() {
    return checking.lastApplied();
  }

  /** Both captures, the checking one first, each behind its length. */
  @Override
  public SnapshotData snapshot() {
    SnapshotData entries = checking.snapshot();
    SnapshotData state = kv.snapshot();
    stats.snapshotIndexes.add(checking.lastApplied());
    return out -> {
      ByteArrayOutputStream first = new ByteArrayOutputStream();
      entries.writeTo(first);
      DataOutputStream data = new DataOutputStream(out);
      data.writeInt(first.size());
      first.writeTo(data);
      state.writeTo(data);
      data.flush();
    };
  }

  @Override
  public void restore(long lastIncludedIndex, java.io.InputStream in) {
    byte[] data = readAll(in);
    int length = ByteBuffer.wrap(data).getInt();
    checking.restore(lastIncludedIndex, Arrays.copyOfRange(data, 4, 4 + length));
    kv.restore(lastIncludedIndex, Arrays.copyOfRange(data, 4 + length, data.length));
    restoredAt = lastIncludedIndex;
    stats.restores++;
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
